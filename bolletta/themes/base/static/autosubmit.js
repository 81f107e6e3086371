// Submit the gateway form at once; without JavaScript the customer presses the button.
document.querySelectorAll("form[data-autosubmit]").forEach(function (form) { form.submit(); });
