// Progress of a background task (bulk issuance, invitations, evidence packs): polls
// the JSON endpoint named in data-url until the task is finished. The figures under
// the bar are plain text, updated every poll, read whenever the reader comes to them.
// A separate polite live region speaks only at each quarter done and at the end: the
// figures change every two seconds, and a live region rewritten that often talks over
// whatever the reader is doing. When the task ends, the status says so and a link to
// the result appears, announced with the figures, instead of a reload that would drop
// the reader's place without a word. Without JavaScript the « Refresh » link under the
// bar asks for the page again, and the sentence saying that the page updates itself
// stays hidden. Signed out meanwhile (the session ended, another tab signed out), the
// answer is the sign-in page, not figures; refused (403, 404: the task is gone, or no
// longer the reader's to follow), no figures will come either. Polling stops and says
// which, and the sentence saying that the page updates itself goes.
(function () {
  document.querySelectorAll("[data-task-progress]").forEach(function (box) {
    if (box.dataset.finished === "true") return;
    var bar = box.querySelector("progress");
    var doneKey = box.dataset.doneKey || "done";
    function field(name) { return box.querySelector("[data-field=" + name + "]"); }
    function show(name, value) {
      var element = field(name);
      var text = String(value);
      if (element && element.textContent !== text) element.textContent = text;
    }
    function quarter(done, total) { return total > 0 ? Math.floor((4 * done) / total) : 0; }
    // The quarter the page opened at goes unsaid: the reader has the page in front of them.
    var announced = quarter(Number(field("done").textContent), Number(field("total").textContent));
    function figures() {
      return field("done").textContent + " / " + field("total").textContent + " · " + field("status").textContent;
    }
    function announce(text) {
      var region = field("announcement");
      if (region) region.textContent = text;
    }
    function finish() {
      show("status", box.dataset.finishedText || "");
      var result = field("result");
      if (result) result.hidden = false;
      var refresh = field("refresh");
      if (refresh) refresh.hidden = true;
      var updating = field("updating");
      if (updating) updating.hidden = true;
      var link = result && result.querySelector("a");
      announce(figures() + (link ? " · " + link.textContent : ""));
    }
    function stop(text) {
      show("status", text);
      var refresh = field("refresh");
      if (refresh) refresh.hidden = false;
      var updating = field("updating");
      if (updating) updating.hidden = true;
      announce(text);
    }
    function endOfPolling(response) {
      var type = response.headers.get("Content-Type") || "";
      if (response.redirected || (response.ok && type.indexOf("application/json") === -1)) {
        return box.dataset.stoppedText || "";
      }
      if (response.status === 403 || response.status === 404) return box.dataset.goneText || "";
      return null;
    }
    function poll() {
      fetch(box.dataset.url, { credentials: "same-origin" })
        .then(function (response) {
          var ended = endOfPolling(response);
          if (ended !== null) return { ended: ended };
          if (!response.ok) throw new Error(response.status);
          return response.json();
        })
        .then(function (progress) {
          if (progress.ended !== undefined) { stop(progress.ended); return; }
          var done = progress[doneKey];
          if (progress.total > 0 && bar.max !== progress.total) bar.max = progress.total;
          if (bar.value !== done) bar.value = done;
          if (bar.textContent !== progress.percent + " %") bar.textContent = progress.percent + " %";
          show("done", done);
          show("total", progress.total);
          // A failure is the server's to explain (its message, what to do next):
          // the page is asked again rather than announced « done ».
          if (progress.finished && (progress.status === "failed" || progress.failed > 0)) {
            window.location.reload();
            return;
          }
          if (progress.finished) { finish(); return; }
          // 25, 50 and 75 %: all done is said by finish(), with the link to the result.
          var reached = quarter(done, progress.total);
          if (reached > announced && reached < 4) {
            announced = reached;
            announce(figures());
          }
          setTimeout(poll, 2000);
        })
        .catch(function () { setTimeout(poll, 5000); });
    }
    var updating = field("updating");
    if (updating) updating.hidden = false;
    setTimeout(poll, 2000);
  });
})();
