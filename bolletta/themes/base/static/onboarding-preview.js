// Refresh the wizard's preview while the admin types. Without JavaScript the "Anteprima" button
// saves the step and shows the same preview.
(function () {
  var form = document.querySelector("form[data-preview]");
  var target = document.getElementById("preview");
  if (!form || !target) { return; }
  var timer = null;
  var latest = 0;
  function refresh() {
    var request = ++latest;
    fetch(form.getAttribute("data-preview"), {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/x-www-form-urlencoded"},
      body: new URLSearchParams(new FormData(form)).toString()
    }).then(function (response) {
      return response.ok ? response.text() : null;
    }).then(function (html) {
      // An older response arriving after a newer one must not replace it.
      if (html !== null && request === latest) { target.innerHTML = html; }
    }).catch(function () { /* keep the last preview; the Anteprima button still works */ });
  }
  form.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(refresh, 300);
  });
})();
