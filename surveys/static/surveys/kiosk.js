// A counter tablet (kiosk mode): the thank-you page starts a fresh form after a few seconds, so that
// the next resident finds an empty form. Without JavaScript the button does the same.
(function () {
  var status = document.getElementById("kiosk-countdown");
  if (!status) return;
  var left = parseInt(status.dataset.seconds, 10);
  var next = status.dataset.next;
  window.setTimeout(function () { window.location.replace(next); }, left * 1000);
})();
