/* Progressive enhancement: turns a [data-map-source] element into an interactive Leaflet map.
 * Without JavaScript (or without Leaflet) the element keeps its fallback content, and every page
 * lists the same information as text. Tiles are optional (HERZSTADT_MAP_TILE_URL); by default the
 * map draws only the platform's own data, so it works offline. */
(function () {
  "use strict";
  if (typeof window.L === "undefined") { return; }
  var L = window.L;

  function popup(feature) {
    var wrap = document.createElement("div");
    var link = document.createElement("a");
    link.href = feature.properties.url;
    link.textContent = feature.properties.name;
    wrap.appendChild(link);
    if (feature.properties.status_label) {
      var status = document.createElement("p");
      status.textContent = feature.properties.status_label;
      wrap.appendChild(status);
    }
    return wrap;
  }

  document.querySelectorAll("[data-map-source]").forEach(function (el) {
    var source = document.getElementById(el.getAttribute("data-map-source"));
    if (!source) { return; }
    var data = JSON.parse(source.textContent);
    if (!data.features || data.features.length === 0) { return; }
    el.textContent = "";
    el.classList.add("map-live");
    var map = L.map(el, { scrollWheelZoom: false, keyboard: true, attributionControl: true });
    map.attributionControl.setPrefix(false);
    if (el.dataset.tiles) {
      L.tileLayer(el.dataset.tiles, { maxZoom: 19, attribution: el.dataset.attribution || "" }).addTo(map);
    }
    var layer = L.geoJSON(data, {
      style: function (f) {
        return f.properties.kind === "district"
          ? { color: "#8a1538", weight: 3, fillColor: "#8a1538", fillOpacity: 0.12 }
          : { color: "#1d4f91", weight: 4 };
      },
      pointToLayer: function (f, latlng) {
        return L.circleMarker(latlng, {
          radius: 9, color: "#1d4f91", weight: 3, fillColor: "#ffffff", fillOpacity: 1
        });
      },
      onEachFeature: function (f, l) {
        l.bindPopup(popup(f));
        l.bindTooltip(f.properties.name);
      }
    }).addTo(map);
    map.fitBounds(layer.getBounds(), { padding: [24, 24], maxZoom: 17 });
    L.control.scale({ imperial: false }).addTo(map);
  });
})();
