// Plays the share page's HLS playlist: natively on Apple's browsers (and
// wherever Media Source Extensions are missing, as on iPhones), else
// through hls.js. Chromium answers canPlayType for HLS too nowadays, but
// hls.js behaves the same in every engine (gap jumping, error recovery).
(function () {
  "use strict";
  var video = document.getElementById("player");
  if (!video) return;
  var src = video.getAttribute("data-src");
  var native = video.canPlayType("application/vnd.apple.mpegurl") !== "";
  var apple = /Apple/.test(navigator.vendor || "");
  var mse = !!(window.Hls && window.Hls.isSupported());
  if (native && (apple || !mse)) {
    video.src = src;
  } else if (mse) {
    var hls = new window.Hls();
    hls.on(window.Hls.Events.ERROR, function (_, data) {
      if (!data.fatal) return;
      if (data.type === window.Hls.ErrorTypes.NETWORK_ERROR) hls.startLoad();
      else if (data.type === window.Hls.ErrorTypes.MEDIA_ERROR) hls.recoverMediaError();
    });
    hls.loadSource(src);
    hls.attachMedia(video);
    window.framecastHls = hls; // for tests and debugging
  } else {
    video.insertAdjacentHTML("afterend", "<p>This browser cannot play this video.</p>");
  }
})();
