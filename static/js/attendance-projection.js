// The attendance page stays projected in the room for hours, and its code changes twice
// a half-day: when the half-day opens (« Not open yet. » becomes « Open now. ») and
// when it closes (the next half-day's code takes its place). The server says in how
// many seconds the next change comes (data-code-changes-in); the projection block
// alone is then asked for (?part=projection) and put in place of the old one, so a
// trainer filling in the grid below loses nothing, nor a message waiting for her next
// page. The clock is read every second rather than trusted to one long timer,
// which a laptop's sleep would stretch. A failed request (network, signed out) tries
// again in 30 seconds; until then the code shown stays as it was. The polite status
// says the new code once. Without JavaScript the sentence saying that the code changes
// by itself stays hidden, and reloading the page shows the current code.
(function () {
  var area = document.querySelector("[data-attendance-projection]");
  if (!area) return;
  var status = document.querySelector("[data-attendance-announcement]");
  var deadline = null;

  function schedule(seconds) {
    var wait = Number(seconds);
    deadline = seconds !== "" && wait > 0 ? Date.now() + wait * 1000 : null;
    var updating = area.querySelector("[data-field=updating]");
    if (updating) updating.hidden = deadline === null;
  }

  function announce(fresh) {
    if (!status) return;
    var code = fresh.querySelector("[data-testid=attendance-code]");
    var state = fresh.querySelector("[data-testid=attendance-code-state]");
    var nothing = fresh.querySelector("[data-testid=attendance-nothing-left]");
    if (code) {
      status.textContent = area.dataset.updatedText + " " + code.textContent + (state ? ". " + state.textContent : "");
    } else if (nothing) {
      status.textContent = nothing.textContent;
    }
  }

  function refresh() {
    fetch(window.location.pathname + "?part=projection", {
      credentials: "same-origin",
      headers: { Accept: "text/html" },
    })
      .then(function (response) {
        if (!response.ok || response.redirected) throw new Error(response.status);
        return response.text();
      })
      .then(function (html) {
        var page = new DOMParser().parseFromString(html, "text/html");
        var fresh = page.querySelector("[data-attendance-projection]");
        if (!fresh) throw new Error("no projection");
        area.innerHTML = fresh.innerHTML;
        announce(area);
        schedule(fresh.dataset.codeChangesIn || "");
      })
      .catch(function () {
        schedule(30);
      });
  }

  schedule(area.dataset.codeChangesIn || "");
  setInterval(function () {
    if (deadline !== null && Date.now() >= deadline) {
      deadline = null;
      refresh();
    }
  }, 1000);
})();
