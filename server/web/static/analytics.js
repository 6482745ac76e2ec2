// Charts of the owner's analytics pages, drawn with uPlot from the JSON
// the page carries.
(function () {
  "use strict";
  if (!window.uPlot) return;
  function width(el) { return Math.max(280, Math.min(900, el.clientWidth || 600)); }
  function days(el, data) {
    if (!data.days || !data.days.length) return;
    new window.uPlot({
      width: width(el), height: 220,
      scales: { x: { time: true } },
      series: [{}, { label: "Views", stroke: "#1a73e8", width: 2 }, { label: "Unique viewers", stroke: "#188038", width: 2 }],
      axes: [{}, { label: "per day" }],
    }, [data.days, data.views, data.viewers], el);
  }
  var main = document.getElementById("chart-data");
  if (main) {
    var data = JSON.parse(main.textContent);
    var ret = document.getElementById("retention-chart");
    if (ret && data.seconds && data.seconds.length) {
      new window.uPlot({
        width: width(ret), height: 240,
        scales: { x: { time: false }, y: { range: [0, 100] } },
        series: [{ label: "second" }, { label: "still watching (%)", stroke: "#1a73e8", fill: "rgba(26,115,232,.12)", width: 2 }],
        axes: [{ label: "seconds" }, { label: "%" }],
      }, [data.seconds, data.retention], ret);
    }
    var d = document.getElementById("days-chart");
    if (d) days(d, data);
  }
  document.querySelectorAll("script.library-data").forEach(function (s) {
    var el = document.getElementById(s.getAttribute("data-chart"));
    if (el) days(el, JSON.parse(s.textContent));
  });
})();
