/* Progressive enhancement of the idea form: a map on which a click (or Enter on the focused map
 * centre) fills the latitude and longitude fields. Without JavaScript the fields are typed in. */
(function () {
  "use strict";
  if (typeof window.L === "undefined") { return; }
  var L = window.L;
  document.querySelectorAll("[data-pick-lat]").forEach(function (el) {
    var lat = document.getElementById(el.getAttribute("data-pick-lat"));
    var lon = document.getElementById(el.getAttribute("data-pick-lon"));
    var source = document.getElementById(el.getAttribute("data-map-source"));
    if (!lat || !lon || !source) { return; }
    var data = JSON.parse(source.textContent);
    el.hidden = false;
    el.classList.add("map-live");
    var map = L.map(el, { scrollWheelZoom: false, keyboard: true });
    map.attributionControl.setPrefix(false);
    if (el.dataset.tiles) {
      L.tileLayer(el.dataset.tiles, { maxZoom: 19, attribution: el.dataset.attribution || "" }).addTo(map);
    }
    var area = L.geoJSON(data, { style: { color: "#8a1538", weight: 3, fillOpacity: 0.08 } }).addTo(map);
    if (area.getLayers().length) { map.fitBounds(area.getBounds(), { padding: [16, 16] }); }
    else { map.setView([49.444, 7.769], 14); }
    var marker = null;
    function place(latlng) {
      lat.value = latlng.lat.toFixed(6);
      lon.value = latlng.lng.toFixed(6);
      if (marker) { marker.setLatLng(latlng); }
      else { marker = L.circleMarker(latlng, { radius: 9, color: "#1d4f91", weight: 3, fillColor: "#fff", fillOpacity: 1 }).addTo(map); }
    }
    function fromFields() {
      var a = parseFloat(lat.value.replace(",", ".")), b = parseFloat(lon.value.replace(",", "."));
      if (!isNaN(a) && !isNaN(b)) { place(L.latLng(a, b)); }
    }
    fromFields();
    map.on("click", function (e) { place(e.latlng); });
    el.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && e.target === el) { e.preventDefault(); place(map.getCenter()); }
    });
    lat.addEventListener("change", fromFields);
    lon.addEventListener("change", fromFields);
  });
})();
