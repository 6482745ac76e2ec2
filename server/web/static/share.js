// Share page actions: copy the link, the e-mail snippet or the embed code.
(function () {
  "use strict";
  var status = document.querySelector(".copied");
  function say(text) {
    if (status) status.textContent = text;
  }
  function copy(text, html) {
    if (html && window.ClipboardItem && navigator.clipboard && navigator.clipboard.write) {
      // As rich text, so an e-mail program pastes the picture, not the code.
      var item = new ClipboardItem({
        "text/html": new Blob([text], { type: "text/html" }),
        "text/plain": new Blob([text], { type: "text/plain" })
      });
      return navigator.clipboard.write([item]);
    }
    if (navigator.clipboard && navigator.clipboard.writeText) {
      return navigator.clipboard.writeText(text);
    }
    return Promise.reject(new Error("no clipboard"));
  }
  document.addEventListener("click", function (e) {
    var b = e.target.closest("[data-copy], [data-copy-from]");
    if (!b) return;
    var from = b.getAttribute("data-copy-from");
    var area = from && document.getElementById(from);
    var text = area ? area.value : b.getAttribute("data-copy");
    copy(text, b.getAttribute("data-copy-html") === "true").then(function () {
      say("Copied.");
    }, function () {
      if (area) { area.focus(); area.select(); }
      say("Press Ctrl+C (⌘C) to copy.");
    });
  });
})();
