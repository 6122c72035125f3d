// The attendance page stays projected in the room for hours, and its code changes twice
// a half-day: when the half-day opens (« Not open yet. » becomes « Open now. ») and
// when it closes (the next half-day's code takes its place, from half an hour before it
// opens: until then, when the code will show). The server says in how
// many seconds the next change comes (data-code-changes-in); the projection block
// alone is then asked for (?part=projection) and put in place of the old one, so a
// trainer filling in the grid below loses nothing, nor a message waiting for her next
// page. The clock is read every second rather than trusted to one long timer,
// which a laptop's sleep would stretch. A failed request (network, signed out) tries
// again in 30 seconds; until then the code shown stays as it was. The polite status
// says the new code once. Without JavaScript the sentence saying that the code changes
// by itself stays hidden, and reloading the page shows the current code.
//
// The grid below (?part=grid) is asked for again too: after each change of the code (a
// half-day that opens brings its buttons) and every data-refresh-seconds (new
// signatures to confirm). Never while the focus is inside it: a trainer at work there
// (or a screen reader's cursor on a button) keeps her place; the next round catches up.
// The grid's horizontal scroll is kept.
(function () {
  var area = document.querySelector("[data-attendance-projection]");
  if (!area) return;
  var status = document.querySelector("[data-attendance-announcement]");
  var grid = document.querySelector("[data-attendance-grid]");
  var deadline = null;
  var gridEvery = grid ? Number(grid.dataset.refreshSeconds) * 1000 : 0;
  var gridDue = gridEvery > 0 ? Date.now() + gridEvery : null;

  function fragment(part, selector) {
    return fetch(window.location.pathname + "?part=" + part, {
      credentials: "same-origin",
      headers: { Accept: "text/html" },
    })
      .then(function (response) {
        if (!response.ok || response.redirected) throw new Error(response.status);
        return response.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").querySelector(selector);
        if (!fresh) throw new Error("no " + part);
        return fresh;
      });
  }

  function refreshGrid() {
    if (!grid || grid.contains(document.activeElement)) return;
    fragment("grid", "[data-attendance-grid]")
      .then(function (fresh) {
        if (grid.contains(document.activeElement)) return;
        var scroller = grid.querySelector(".table-scroll");
        var left = scroller ? scroller.scrollLeft : 0;
        grid.innerHTML = fresh.innerHTML;
        scroller = grid.querySelector(".table-scroll");
        if (scroller) scroller.scrollLeft = left;
      })
      .catch(function () {});
  }

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
    var other = fresh.querySelector(
      "[data-testid=attendance-nothing-left], [data-testid=attendance-code-later]"
    );
    if (code) {
      status.textContent = area.dataset.updatedText + " " + code.textContent + (state ? ". " + state.textContent : "");
    } else if (other) {
      status.textContent = other.textContent;
    }
  }

  function refresh() {
    fragment("projection", "[data-attendance-projection]")
      .then(function (fresh) {
        area.innerHTML = fresh.innerHTML;
        announce(area);
        schedule(fresh.dataset.codeChangesIn || "");
        refreshGrid();
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
    if (gridDue !== null && Date.now() >= gridDue) {
      gridDue = Date.now() + gridEvery;
      refreshGrid();
    }
  }, 1000);
})();
