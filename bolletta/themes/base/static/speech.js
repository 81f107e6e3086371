// Read the summary aloud with the browser's own speech synthesis, where the utility has no server
// voice for the page language. Without JavaScript or speech synthesis the button stays hidden and
// the same text remains readable under "Text read aloud".
(function () {
  "use strict";
  var button = document.querySelector("[data-speech-button]");
  var text = document.getElementById("speech-text");
  if (!button || !text || !("speechSynthesis" in window)) {
    return;
  }
  var box = button.closest("[data-speech-lang]");
  var language = box.getAttribute("data-speech-lang");
  var recordUrl = box.getAttribute("data-speech-record");
  var csrfField = box.querySelector("input[name=_csrf_token]");
  var csrf = csrfField ? csrfField.value : "";
  button.hidden = false;
  button.addEventListener("click", function () {
    if (window.speechSynthesis.speaking) {
      window.speechSynthesis.cancel();
      return;
    }
    var utterance = new SpeechSynthesisUtterance(text.textContent);
    utterance.lang = language;
    window.speechSynthesis.speak(utterance);
    var body = new URLSearchParams();
    body.set("_csrf_token", csrf);
    fetch(recordUrl, { method: "POST", body: body, credentials: "same-origin" });
  });
})();
