// Progress of a background task (bulk issuance, invitations): polls the JSON
// endpoint named in data-url until the task is finished, then reloads the page
// so the server renders the final state. Without JavaScript a <noscript> meta
// refresh does the same job.
(function () {
  document.querySelectorAll("[data-task-progress]").forEach(function (box) {
    if (box.dataset.finished === "true") return;
    var bar = box.querySelector("progress");
    var doneKey = box.dataset.doneKey || "done";
    function poll() {
      fetch(box.dataset.url, { credentials: "same-origin" })
        .then(function (response) { return response.json(); })
        .then(function (progress) {
          bar.max = progress.total;
          bar.value = progress[doneKey];
          bar.textContent = progress.percent + " %";
          box.querySelector("[data-field=done]").textContent = progress[doneKey];
          box.querySelector("[data-field=total]").textContent = progress.total;
          if (progress.finished) { window.location.reload(); } else { setTimeout(poll, 2000); }
        })
        .catch(function () { setTimeout(poll, 5000); });
    }
    setTimeout(poll, 2000);
  });
})();
