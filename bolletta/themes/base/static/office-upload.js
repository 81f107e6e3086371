// Progressive enhancement of the flow upload form (office/upload.html): drag and drop onto the
// drop zone, and a progress bar while XMLHttpRequest sends the file. Without this script the form
// posts as a plain multipart form, and the server handles both the same way.
(function () {
  "use strict";

  var form = document.querySelector("form.upload-form");
  if (!form || !window.FormData || !window.XMLHttpRequest) {
    return;
  }
  var input = form.querySelector("input[type=file]");
  var zone = form.querySelector(".drop-zone");
  var progress = form.querySelector(".upload-progress");
  var status = form.querySelector(".upload-status");
  var button = form.querySelector("button[type=submit]");

  function show(text) {
    status.textContent = text;
  }

  ["dragenter", "dragover"].forEach(function (name) {
    zone.addEventListener(name, function (event) {
      event.preventDefault();
      zone.classList.add("dragover");
    });
  });
  ["dragleave", "drop"].forEach(function (name) {
    zone.addEventListener(name, function () {
      zone.classList.remove("dragover");
    });
  });
  zone.addEventListener("drop", function (event) {
    event.preventDefault();
    if (event.dataTransfer && event.dataTransfer.files.length) {
      input.files = event.dataTransfer.files;
      show(event.dataTransfer.files[0].name);
    }
  });

  // Shows the server's own error message from an error page, or a generic one.
  function showError(xhr) {
    var message = form.dataset.failed;
    if (xhr.responseText) {
      var page = new DOMParser().parseFromString(xhr.responseText, "text/html");
      var notice = page.getElementById("upload-error");
      if (notice) {
        message = notice.textContent.trim();
      }
    }
    progress.hidden = true;
    button.disabled = false;
    show(message);
  }

  form.addEventListener("submit", function (event) {
    if (!input.files.length) {
      return;
    }
    event.preventDefault();
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.upload.addEventListener("progress", function (progressEvent) {
      if (progressEvent.lengthComputable) {
        var percent = Math.floor((progressEvent.loaded / progressEvent.total) * 100);
        progress.value = percent;
        show(form.dataset.progressLabel + " " + percent + "%");
      }
    });
    xhr.addEventListener("load", function () {
      // The server redirects to the job page; XMLHttpRequest follows the redirect.
      if (xhr.status === 200 && xhr.responseURL && xhr.responseURL.indexOf("/office/jobs/") !== -1) {
        show(form.dataset.done);
        window.location.assign(xhr.responseURL);
      } else {
        showError(xhr);
      }
    });
    xhr.addEventListener("error", function () {
      showError(xhr);
    });
    progress.hidden = false;
    progress.value = 0;
    button.disabled = true;
    xhr.send(new FormData(form));
  });
})();
