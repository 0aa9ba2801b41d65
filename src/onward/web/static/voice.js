// Similar ideas while typing (docs/voice.md): asks /voice/similar for ideas sharing words with the title
// and problem typed so far, and lists them under the form. Without script, the "Look for similar ideas"
// button does the same through the server. Loaded as a file: the pages' CSP allows no inline script.
(function () {
  "use strict";
  var form = document.getElementById("idea-form");
  if (!form) { return; }
  var url = form.getAttribute("data-similar-url");
  var box = document.getElementById("similar");
  var title = document.getElementById("title");
  var problem = document.getElementById("problem");
  var timer = null;
  var last = "";

  function show(ideas) {
    box.textContent = "";
    if (!ideas.length) { return; }
    var heading = document.createElement("h2");
    heading.textContent = "Similar ideas already shared";
    var hint = document.createElement("p");
    hint.className = "hint";
    hint.textContent = "You can support one of these instead, or share yours anyway.";
    var list = document.createElement("ul");
    list.className = "ideas";
    ideas.forEach(function (idea) {
      var item = document.createElement("li");
      item.className = "idea-card";
      var link = document.createElement("a");
      link.className = "idea-title";
      link.href = "/voice/ideas/" + encodeURIComponent(idea.idea_id);
      link.textContent = idea.title;
      var status = document.createElement("span");
      status.className = "meta";
      status.textContent = idea.status;
      item.appendChild(link);
      item.appendChild(status);
      list.appendChild(item);
    });
    box.appendChild(heading);
    box.appendChild(hint);
    box.appendChild(list);
  }

  function ask() {
    var words = (title.value + " " + problem.value).trim();
    if (words === last) { return; }
    last = words;
    if (words.length < 3) { show([]); return; }
    fetch(url + "?q=" + encodeURIComponent(words), { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : []; })
      .then(show)
      .catch(function () { /* the button still works */ });
  }

  function later() {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(ask, 300);
  }
  title.addEventListener("input", later);
  problem.addEventListener("input", later);
})();
