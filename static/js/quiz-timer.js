// A timed quiz: the time left, shown to the minute, announced to screen readers
// at 10, 5 and 1 minutes left only (every minute would interrupt the reading of
// the questions), and the answers sent when the time is up, so that what the
// learner typed is scored instead of the attempt expiring at zero. The server's
// own count (data-seconds-left) sets the end, not the device's clock.
//
// Browsers slow repeating timers in background tabs to once a minute, which
// would send the answers past the server's grace: the sending is one timeout
// set at load, a few seconds early (the server accepts it), and is done at once
// when the page comes back to the foreground after the end.
//
// Going Back to the quiz may show the page from the browser's cache, with the
// count the server wrote when it first sent it: the end computed at each load is
// kept for the tab (sessionStorage), and on a Back or Forward the earlier of the
// two wins. Any other load carries a fresh count, which is trusted.
(function () {
  var box = document.getElementById("quiz-time-left");
  var alert = document.getElementById("quiz-time-alert");
  var form = document.getElementById("quiz-form");
  if (!box || !alert || !form) return;
  var seconds = parseFloat(box.getAttribute("data-seconds-left"));
  if (isNaN(seconds)) return;
  var EARLY_MS = 5000;
  var end = keptEnd(box.getAttribute("data-attempt"), Date.now() + seconds * 1000);
  var ANNOUNCED = [10, 5, 1];
  var shown = null;
  var sent = false;

  function fromHistory() {
    var entries = window.performance && performance.getEntriesByType
      ? performance.getEntriesByType("navigation") : [];
    return entries.length > 0 && entries[0].type === "back_forward";
  }

  function keptEnd(attempt, fresh) {
    var key = "quiz-end-" + attempt;
    try {
      var kept = parseFloat(window.sessionStorage.getItem(key));
      var end = fromHistory() && !isNaN(kept) ? Math.min(kept, fresh) : fresh;
      window.sessionStorage.setItem(key, String(end));
      return end;
    } catch (error) {
      return fresh; // storage refused (private browsing, quota): the page's own count
    }
  }

  function text(minutes) {
    var template = box.getAttribute(minutes === 1 ? "data-one-left" : "data-many-left");
    return template.replace("{n}", String(minutes));
  }

  function send() {
    if (sent) return;
    sent = true;
    box.textContent = alert.textContent = box.getAttribute("data-time-up");
    form.querySelector("input[name=time_up]").value = "1";
    form.submit();
  }

  function sendIfDue() {
    if (Date.now() >= end - EARLY_MS) send();
  }

  function tick() {
    var left = end - Date.now();
    if (left <= EARLY_MS) return sendIfDue();
    var minutes = Math.ceil(left / 60000);
    if (minutes === shown) return;
    box.textContent = text(minutes);
    if (shown !== null && ANNOUNCED.indexOf(minutes) !== -1) alert.textContent = text(minutes);
    shown = minutes;
  }

  box.hidden = false;
  tick();
  setInterval(tick, 1000);
  setTimeout(sendIfDue, Math.max(0, end - Date.now() - EARLY_MS));
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") sendIfDue();
  });
  window.addEventListener("pageshow", sendIfDue);
  form.addEventListener("submit", function () { sent = true; });
})();
