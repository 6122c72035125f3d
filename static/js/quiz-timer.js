// A timed quiz: the time left, shown to the minute, announced to screen readers
// at 10, 5 and 1 minutes left only (every minute would interrupt the reading of
// the questions), and the answers sent when the time is up, so that what the
// learner typed is scored instead of the attempt expiring at zero. The server's
// own count (data-seconds-left) is used, not the device's clock.
(function () {
  var box = document.getElementById("quiz-time-left");
  var alert = document.getElementById("quiz-time-alert");
  var form = document.getElementById("quiz-form");
  if (!box || !alert || !form) return;
  var seconds = parseFloat(box.getAttribute("data-seconds-left"));
  if (isNaN(seconds)) return;
  var end = performance.now() + seconds * 1000;
  var ANNOUNCED = [10, 5, 1];
  var shown = null;
  var sent = false;

  function text(minutes) {
    var template = box.getAttribute(minutes === 1 ? "data-one-left" : "data-many-left");
    return template.replace("{n}", String(minutes));
  }

  function tick() {
    var left = end - performance.now();
    if (left <= 0) {
      if (sent) return;
      sent = true;
      box.textContent = alert.textContent = box.getAttribute("data-time-up");
      form.querySelector("input[name=time_up]").value = "1";
      form.submit();
      return;
    }
    var minutes = Math.ceil(left / 60000);
    if (minutes === shown) return;
    box.textContent = text(minutes);
    if (shown !== null && ANNOUNCED.indexOf(minutes) !== -1) alert.textContent = text(minutes);
    shown = minutes;
  }

  box.hidden = false;
  tick();
  setInterval(tick, 1000);
})();
