// A voting code in the address's fragment (#code=…, from the QR code of a letter) fills the code
// field; the fragment never reaches the server. Without JavaScript the person types the code.
(function () {
  var match = /(?:^#|&)code=([A-Za-z0-9-]{1,60})/.exec(window.location.hash);
  var field = document.querySelector('input[name="code"]');
  if (match && field && !field.value) {
    field.value = match[1];
    history.replaceState(null, "", window.location.pathname + window.location.search);
  }
})();
