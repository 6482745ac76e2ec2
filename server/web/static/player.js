// Plays the share page's HLS playlist: natively where the browser can
// (Safari), else through hls.js (Media Source Extensions).
(function () {
  "use strict";
  var video = document.getElementById("player");
  if (!video) return;
  var src = video.getAttribute("data-src");
  if (video.canPlayType("application/vnd.apple.mpegurl")) {
    video.src = src;
  } else if (window.Hls && window.Hls.isSupported()) {
    var hls = new window.Hls();
    hls.loadSource(src);
    hls.attachMedia(video);
    window.framecastHls = hls; // for tests and debugging
  } else {
    video.insertAdjacentHTML("afterend", "<p>This browser cannot play this video.</p>");
  }
})();
