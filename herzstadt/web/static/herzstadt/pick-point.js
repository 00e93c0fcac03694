/* Progressive enhancement of the idea form: a map on which a click, or Enter on the focused map,
 * fills the latitude and longitude fields. A crosshair marks the map's centre: that is the point
 * Enter sets (arrow keys move the map, + and − zoom). The chosen point is announced through the
 * aria-live region next to the map. Without JavaScript the map stays hidden and the fields are typed
 * in. Texts (instructions, announcement, zoom buttons) come from the page, in its language. */
(function () {
  "use strict";
  if (typeof window.L === "undefined") { return; }
  var L = window.L;

  function decimal(value, digits) {
    /* as the page's language writes numbers: 49,444100 on German pages */
    var lang = document.documentElement.lang || "de";
    try {
      return value.toLocaleString(lang, { minimumFractionDigits: digits, maximumFractionDigits: digits, useGrouping: false });
    } catch (e) { return value.toFixed(digits); }
  }

  document.querySelectorAll("[data-pick-lat]").forEach(function (el) {
    var lat = document.getElementById(el.getAttribute("data-pick-lat"));
    var lon = document.getElementById(el.getAttribute("data-pick-lon"));
    var data = null;
    var source = document.getElementById(el.getAttribute("data-map-source"));
    if (source) { try { data = JSON.parse(source.textContent); } catch (e) { data = null; } }
    if (!lat || !lon) { return; }
    var wrapper = el.closest("[data-pick-wrapper]") || el.parentNode;
    var live = wrapper.querySelector("[data-pick-live]");
    wrapper.querySelectorAll("[data-pick-js]").forEach(function (node) { node.hidden = false; });
    el.hidden = false;
    el.classList.add("map-live");
    var map = L.map(el, { scrollWheelZoom: false, keyboard: true, zoomControl: false, maxZoom: 19 });
    L.control.zoom({ zoomInTitle: el.dataset.zoomIn || "+", zoomOutTitle: el.dataset.zoomOut || "−" }).addTo(map);
    map.attributionControl.setPrefix(false);
    if (el.dataset.tiles) {
      L.tileLayer(el.dataset.tiles, { maxZoom: 19, attribution: el.dataset.attribution || "" }).addTo(map);
    } else if (el.dataset.basemap && window.herzstadtMap) {
      el.classList.add("map-schematic");
      map.attributionControl.addAttribution(el.dataset.basemapLabel || "");
      fetch(el.dataset.basemap, { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (base) { if (base) { window.herzstadtMap.drawBasemap(map, base); } })
        .catch(function () { /* the district outline is still there */ });
    }
    var crosshair = document.createElement("div");
    crosshair.className = "map-crosshair";
    crosshair.setAttribute("aria-hidden", "true");
    el.appendChild(crosshair);

    var area = L.geoJSON(data, { style: { color: "#8a1538", weight: 3, fillOpacity: 0.08 }, interactive: false }).addTo(map);
    if (area.getLayers().length) { map.fitBounds(area.getBounds(), { padding: [16, 16] }); }
    else { map.setView([49.4445, 7.757], 15); }
    var marker = null;
    function announce(latlng) {
      if (!live) { return; }
      var text = (el.dataset.announce || "%lat, %lon")
        .replace("%lat", decimal(latlng.lat, 5))
        .replace("%lon", decimal(latlng.lng, 5));
      live.textContent = text;
    }
    function show(latlng) {
      if (marker) { marker.setLatLng(latlng); }
      else {
        marker = L.marker(latlng, {
          icon: L.divIcon({ className: "map-marker", html: '<span class="map-symbol sym-chosen"></span>', iconSize: [28, 28], iconAnchor: [14, 14] }),
          keyboard: false,
          interactive: false
        }).addTo(map);
      }
    }
    function place(latlng) {
      lat.value = decimal(latlng.lat, 6);
      lon.value = decimal(latlng.lng, 6);
      show(latlng);
      announce(latlng);
    }
    function fromFields() {
      var a = parseFloat(lat.value.replace(",", ".")), b = parseFloat(lon.value.replace(",", "."));
      if (!isNaN(a) && !isNaN(b) && Math.abs(a) <= 90 && Math.abs(b) <= 180) { show(L.latLng(a, b)); }
    }
    fromFields();
    map.on("click", function (e) { place(e.latlng); });
    el.addEventListener("keydown", function (e) {
      if ((e.key === "Enter" || e.key === " ") && e.target === el) { e.preventDefault(); place(map.getCenter()); }
    });
    lat.addEventListener("change", fromFields);
    lon.addEventListener("change", fromFields);
  });
})();
