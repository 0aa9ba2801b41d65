"""The pathway API: the same use cases as the pages, under the same policy (404 for records you may
not see, the CSRF header on writes), and in the OpenAPI document."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from onward.web.sessions import CSRF_HEADER

PASSWORD = "a long test password 1"


def _sign_in(client: TestClient, username: str) -> dict[str, str]:
    client.cookies.clear()
    response = client.post("/api/v1/session", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {CSRF_HEADER: response.json()["csrf_token"]}


def test_the_openapi_document_lists_the_pathway_routes(client: TestClient) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert {
        "/api/v1/caseload",
        "/api/v1/episodes/{episode_id}",
        "/api/v1/episodes/{episode_id}/measurements",
        "/api/v1/episodes/{episode_id}/links",
        "/api/v1/referrals",
        "/api/v1/referrals/{referral_id}/episode",
        "/api/v1/me/progress",
    } <= set(paths)


def test_a_clinician_records_care_and_changes_the_episode_over_json(
    client: TestClient, make_user: Callable[..., Any], county: None
) -> None:
    make_user("carla", "clinician", program_ids=["p1"], staff_id="st1")
    csrf = _sign_in(client, "carla")
    load = client.get("/api/v1/caseload").json()
    assert [e["episode_id"] for e in load["episodes"]] == ["e1"] and load["counts"]["exit_passed"] == 1
    assert load["episodes"][0]["scores"] == [
        {"instrument": "phq9", "points": [["2024-01-10", 17], ["2024-06-01", 8]]}
    ]
    answers = {"instrument": "phq9", "answers": [0, 0, 1, 0, 0, 0, 0, 0, 1]}
    assert client.post("/api/v1/episodes/e1/measurements", json=answers).status_code == 403  # no CSRF header
    made = client.post("/api/v1/episodes/e1/measurements", json=answers, headers=csrf)
    assert made.status_code == 201 and made.json()["total"] == 2 and made.json()["flags"] == ["risk"]
    bad = client.post("/api/v1/episodes/e1/measurements", json={**answers, "answers": [0] * 8}, headers=csrf)
    assert bad.status_code == 400 and "has 9 items, got 8" in bad.json()["detail"]
    flags = client.get("/api/v1/episodes/e1/flags").json()
    assert flags[0]["flag"] == "risk"
    svc = client.post("/api/v1/episodes/e1/services", json={"code": "T1016"}, headers=csrf).json()
    assert svc["category"] == "case_management" and svc["minutes"] == 15
    link = client.post(
        "/api/v1/episodes/e1/links", json={"instrument": "gad7", "valid_days": 2}, headers=csrf
    )
    assert link.status_code == 201 and "/answer/" in link.json()["url"]
    stage = client.post(
        "/api/v1/episodes/e1/stage", json={"stage": "stepping_down", "note": "fortnightly"}, headers=csrf
    )
    assert stage.json()["stage"] == "stepping_down"
    moved = client.post(
        "/api/v1/episodes/e1/exit", json={"planned_exit": "2024-08-01", "reason": "exams"}, headers=csrf
    )
    assert moved.json()["planned_exit"] == "2024-08-01" and moved.json()["extensions"][0]["reason"] == "exams"
    criteria = {"text": "PHQ-9 below 10 twice and exams passed.", "reason": "exams matter most"}
    written = client.put("/api/v1/episodes/e1/criteria", json=criteria, headers=csrf).json()
    assert written["criteria"][0]["basis"] == "edited"
    ended = client.post("/api/v1/episodes/e1/end", json={}, headers=csrf).json()
    assert (ended["stage"], ended["end_reason"]) == ("ended", "graduated")
    back = client.post("/api/v1/episodes/e1/reentry", json={"reason": "struggling again"}, headers=csrf)
    assert back.status_code == 201 and (back.json()["stage"], back.json()["fast_reentry_of"]) == (
        "waiting",
        "e1",
    )
    assert client.get("/api/v1/episodes/e2").status_code == 404
    assert client.post("/api/v1/episodes/e2/measurements", json=answers, headers=csrf).status_code == 404


def test_a_manager_refers_admits_and_reads_the_waiting_list(
    client: TestClient, make_user: Callable[..., Any], county: None
) -> None:
    make_user("mara", "manager", program_ids=["p1"])
    csrf = _sign_in(client, "mara")
    made = client.post(
        "/api/v1/referrals", json={"person_id": "ben", "program_id": "p1", "source": "hospital"}, headers=csrf
    ).json()
    assert made["stage"] == "referred"
    waiting = client.get("/api/v1/programs/p1/waiting").json()
    assert [w["referral_id"] for w in waiting] == ["r2", made["referral_id"]]  # urgent cy first
    assert (
        client.post(f"/api/v1/referrals/{made['referral_id']}/intake", json={}, headers=csrf).json()["stage"]
        == "waiting"
    )
    episode = client.post("/api/v1/referrals/r2/episode", json={"primary_staff_id": "st1"}, headers=csrf)
    assert episode.status_code == 201, episode.text
    body = episode.json()
    assert body["stage"] == "active" and body["criteria"][0]["basis"] == "default:outpatient"
    assert client.get("/api/v1/programs/p2/waiting").status_code == 404
    assert client.get("/api/v1/caseload").status_code == 403


def test_a_person_reads_their_own_progress(
    client: TestClient, make_user: Callable[..., Any], county: None
) -> None:
    make_user("ana", "person", person_id="ana")
    _sign_in(client, "ana")
    mine = client.get("/api/v1/me/progress").json()
    assert [e["episode_id"] for e in mine] == ["e1"] and mine[0]["planned_exit"] == "2024-04-10"
    assert client.get("/api/v1/episodes/e1").status_code == 403
