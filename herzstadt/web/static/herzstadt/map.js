/* Progressive enhancement: turns a [data-map-source] element (web/_map.html) into a Leaflet map.
 * Without JavaScript (or without Leaflet) the map's figure stays hidden and the page shows the same
 * places as a list of links. What the map draws:
 * - a base layer: the configured tiles (HERZSTADT_MAP_TILE_URL, data-tiles) or, offline, the city's
 *   schematic GeoJSON drawing (data-basemap: streets, building outlines, landmarks);
 * - the page's own data: embedded (<script type="application/json" id=data-map-source>) and/or
 *   fetched from a GeoJSON endpoint (data-map-url); points get a symbol per status (colour, shape
 *   and glyph, explained by the legend next to the map) and are clustered when there are many.
 * Every text (zoom buttons, status labels, "close") comes from the page, in its language. */
(function () {
  "use strict";
  if (typeof window.L === "undefined") { return; }
  var L = window.L;
  /* more points than this are grouped into clusters of nearby points */
  var CLUSTER_FROM = 40;
  var CLUSTER_CELL = 56;

  function readJSON(id) {
    var source = id && document.getElementById(id);
    if (!source) { return null; }
    try { return JSON.parse(source.textContent); } catch (e) { return null; }
  }

  /* status value -> label, from the legend the server rendered in the page's language */
  function legendLabels(figure) {
    var labels = {};
    if (!figure) { return labels; }
    figure.querySelectorAll("[data-status]").forEach(function (item) {
      labels[item.getAttribute("data-status")] = item.textContent.trim();
    });
    return labels;
  }

  function popup(feature, labels) {
    var p = feature.properties || {};
    var wrap = document.createElement("div");
    var link = document.createElement("a");
    link.href = p.url;
    link.textContent = p.name;
    wrap.appendChild(link);
    var label = labels[p.status] || p.status_label;
    if (label) {
      var status = document.createElement("p");
      status.textContent = label;
      wrap.appendChild(status);
    }
    return wrap;
  }

  function symbol(status, label) {
    return L.divIcon({
      className: "map-marker",
      html: '<span class="map-symbol sym-' + String(status || "none").replace(/[^a-z_]/g, "") + '"></span>',
      iconSize: [28, 28],
      iconAnchor: [14, 14],
      popupAnchor: [0, -12],
      tooltipAnchor: [12, 0]
    });
  }

  function markerFor(feature, latlng, labels) {
    var p = feature.properties || {};
    var label = labels[p.status] || p.status_label || "";
    var title = label ? p.name + " – " + label : p.name;
    var marker = L.marker(latlng, { icon: symbol(p.status), title: title, alt: title, keyboard: true });
    marker.bindPopup(popup(feature, labels));
    marker.bindTooltip(title);
    return marker;
  }

  /* a simple grid clustering: points that fall into the same screen cell become one numbered
   * symbol; a click (or Enter) on it zooms to its points. Recomputed after every zoom. */
  function ClusterLayer(markers, el) {
    var group = L.layerGroup();
    var map = null;
    function redraw() {
      group.clearLayers();
      var cells = {};
      markers.forEach(function (m) {
        var pt = map.project(m.getLatLng(), map.getZoom());
        var key = Math.floor(pt.x / CLUSTER_CELL) + ":" + Math.floor(pt.y / CLUSTER_CELL);
        (cells[key] = cells[key] || []).push(m);
      });
      Object.keys(cells).forEach(function (key) {
        var members = cells[key];
        if (members.length === 1 || map.getZoom() >= map.getMaxZoom()) {
          members.forEach(function (m) { group.addLayer(m); });
          return;
        }
        var bounds = L.latLngBounds(members.map(function (m) { return m.getLatLng(); }));
        var title = (el.dataset.clusterLabel || "%n").replace("%n", members.length);
        var cluster = L.marker(bounds.getCenter(), {
          icon: L.divIcon({
            className: "map-marker",
            html: '<span class="map-cluster">' + members.length + "</span>",
            iconSize: [36, 36],
            iconAnchor: [18, 18]
          }),
          title: title,
          alt: title,
          keyboard: true
        });
        cluster.on("click", function () { map.fitBounds(bounds.pad(0.3)); });
        group.addLayer(cluster);
      });
    }
    return {
      addTo: function (m) { map = m; group.addTo(m); redraw(); m.on("zoomend", redraw); return this; }
    };
  }

  var BASE_STYLE = {
    street: { color: "#ffffff", weight: 7, opacity: 1 },
    street_casing: { color: "#b9b4a8", weight: 10, opacity: 1 },
    rail: { color: "#6b6b75", weight: 2, dashArray: "8 6", opacity: 1 },
    building: { color: "#9a948a", weight: 1, fillColor: "#ddd6c8", fillOpacity: 1 },
    green: { color: "#7fa36b", weight: 1, fillColor: "#cfe3c2", fillOpacity: 1 }
  };

  function drawBasemap(map, data) {
    var casing = L.geoJSON(data, {
      filter: function (f) { return f.properties.kind === "street"; },
      style: function () { return BASE_STYLE.street_casing; },
      interactive: false
    });
    var base = L.geoJSON(data, {
      style: function (f) { return BASE_STYLE[f.properties.kind] || BASE_STYLE.building; },
      interactive: false,
      pointToLayer: function (f, latlng) {
        return L.circleMarker(latlng, {
          radius: 4, color: "#3d3d45", weight: 2, fillColor: "#ffffff", fillOpacity: 1, interactive: false
        });
      },
      onEachFeature: function (f, layer) {
        var kind = f.properties.kind;
        if (!f.properties.name || (kind !== "street" && kind !== "landmark")) { return; }
        layer.bindTooltip(f.properties.name, {
          permanent: true,
          direction: kind === "landmark" ? "right" : "center",
          offset: kind === "landmark" ? [6, 0] : [0, 0],
          className: "map-label map-label-" + kind,
          interactive: false
        });
      }
    });
    casing.addTo(map);
    base.addTo(map);
    /* street names only when zoomed in far enough to read them */
    function labels() {
      map.getContainer().classList.toggle("map-zoomed-out", map.getZoom() < 16);
    }
    map.on("zoomend", labels);
    labels();
  }

  function setUp(el) {
    var figure = el.closest("figure");
    var labels = legendLabels(figure);
    var data = readJSON(el.getAttribute("data-map-source")) || { type: "FeatureCollection", features: [] };
    var url = el.getAttribute("data-map-url");
    if (!url && (!data.features || data.features.length === 0)) { return; }

    el.textContent = "";
    el.hidden = false;
    if (figure) { figure.hidden = false; }
    el.classList.add("map-live");
    var map = L.map(el, { scrollWheelZoom: false, keyboard: true, zoomControl: false, maxZoom: 19 });
    L.control.zoom({
      zoomInTitle: el.dataset.zoomIn || "+",
      zoomOutTitle: el.dataset.zoomOut || "−"
    }).addTo(map);
    map.attributionControl.setPrefix(false);
    if (el.dataset.tiles) {
      L.tileLayer(el.dataset.tiles, { maxZoom: 19, attribution: el.dataset.attribution || "" }).addTo(map);
    } else if (el.dataset.basemap) {
      el.classList.add("map-schematic");
      map.attributionControl.addAttribution(el.dataset.basemapLabel || "");
      fetch(el.dataset.basemap, { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (base) { if (base) { drawBasemap(map, base); } })
        .catch(function () { /* the map still shows the page's own data */ });
    }
    map.on("popupopen", function (e) {
      var close = e.popup.getElement() && e.popup.getElement().querySelector(".leaflet-popup-close-button");
      if (close && el.dataset.close) { close.setAttribute("aria-label", el.dataset.close); close.title = el.dataset.close; }
    });
    L.control.scale({ imperial: false }).addTo(map);

    var areas = L.geoJSON(null, {
      filter: function (f) { return f.geometry && f.geometry.type !== "Point"; },
      style: function (f) {
        return f.properties.kind === "district"
          ? { color: "#8a1538", weight: 3, fillColor: "#8a1538", fillOpacity: 0.08 }
          : { color: "#1d4f91", weight: 4 };
      },
      onEachFeature: function (f, l) {
        l.bindPopup(popup(f, labels));
        l.bindTooltip(f.properties.name);
      }
    }).addTo(map);
    var markers = [];
    function add(collection) {
      areas.addData(collection);
      (collection.features || []).forEach(function (f) {
        if (f.geometry && f.geometry.type === "Point") {
          var c = f.geometry.coordinates;
          markers.push(markerFor(f, L.latLng(c[1], c[0]), labels));
        }
      });
    }
    function show() {
      if (markers.length > CLUSTER_FROM) {
        new ClusterLayer(markers, el).addTo(map);
      } else {
        markers.forEach(function (m) { m.addTo(map); });
      }
      var bounds = areas.getBounds();
      markers.forEach(function (m) { bounds.extend(m.getLatLng()); });
      if (bounds.isValid()) { map.fitBounds(bounds, { padding: [24, 24], maxZoom: 17 }); }
      else { map.setView([49.4445, 7.757], 15); }
      /* the map now shows the places: the list of them stays available, folded */
      var list = figure && figure.parentNode.querySelector("[data-map-places]");
      if (list && list.hasAttribute("open") && markers.length) { list.removeAttribute("open"); }
    }
    add(data);
    if (url) {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/geo+json" } })
        .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
        .then(function (more) { add(more); show(); })
        .catch(function () { show(); });
    } else {
      show();
    }
  }

  document.querySelectorAll("[data-map-source]:not([data-pick-lat])").forEach(setUp);
  window.herzstadtMap = { drawBasemap: drawBasemap };
})();
