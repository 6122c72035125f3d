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
(function () {
  var box = document.getElementById("quiz-time-left");
  var alert = document.getElementById("quiz-time-alert");
  var form = document.getElementById("quiz-form");
  if (!box || !alert || !form) return;
  var seconds = parseFloat(box.getAttribute("data-seconds-left"));
  if (isNaN(seconds)) return;
  var EARLY_MS = 5000;
  var end = Date.now() + seconds * 1000;
  var ANNOUNCED = [10, 5, 1];
  var shown = null;
  var sent = false;

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
  setTimeout(sendIfDue, Math.max(0, seconds * 1000 - EARLY_MS));
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") sendIfDue();
  });
  window.addEventListener("pageshow", sendIfDue);
  form.addEventListener("submit", function () { sent = true; });
})();
