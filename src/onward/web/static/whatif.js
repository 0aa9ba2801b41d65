// The what-if run page: poll the run's status and reload when it is done. A file, not an inline script:
// the Content-Security-Policy (script-src 'self') refuses inline scripts.
(function () {
  var box = document.getElementById("progress");
  if (!box) { return; }
  function poll() {
    fetch(box.dataset.statusUrl, {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (s) {
      document.getElementById("done").textContent = s.done;
      document.getElementById("total").textContent = s.total;
      var bar = document.getElementById("bar"); bar.max = s.total || 1; bar.value = s.done;
      if (s.status === "done" || s.status === "failed") { window.location.reload(); } else { setTimeout(poll, 1000); }
    }).catch(function () { setTimeout(poll, 3000); });
  }
  setTimeout(poll, 1000);
})();
