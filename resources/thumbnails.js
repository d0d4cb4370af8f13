/* Editor side of the result thumbnails of `face image` and `face debug overlay` (served by
   Node-RED at resources/node-red-contrib-facefusion/thumbnails.js). The runtime publishes a small
   JPEG on the comms topic facefusion/thumbnail/<node id> (already shrunk and throttled there);
   this draws it as an SVG <image> under the node, and removes it when the node stops. */
(function () {
  'use strict';
  if (window.facefusionThumbnails) return; // loaded by two node files
  var SVG = 'http://www.w3.org/2000/svg';
  var latest = {}; // node id → { src, width, height }

  function clear(id) {
    var old = document.getElementById('ff-thumb-' + id);
    if (old) old.remove();
  }

  function draw(id) {
    var thumb = latest[id];
    clear(id);
    if (!thumb) return;
    var group = document.getElementById(id);
    var node = RED.nodes.node(id);
    if (!group || !node) return; // not on the visible tab: drawn when its tab is shown
    var top = (node.h || 30) + 22; // below the node's status line
    var holder = document.createElementNS(SVG, 'g');
    holder.setAttribute('id', 'ff-thumb-' + id);
    holder.setAttribute('class', 'ff-thumbnail');
    var frame = document.createElementNS(SVG, 'rect');
    frame.setAttribute('x', '-1');
    frame.setAttribute('y', String(top - 1));
    frame.setAttribute('width', String(thumb.width + 2));
    frame.setAttribute('height', String(thumb.height + 2));
    frame.setAttribute('style', 'fill:#fff; stroke:#999; stroke-width:1');
    var image = document.createElementNS(SVG, 'image');
    image.setAttribute('x', '0');
    image.setAttribute('y', String(top));
    image.setAttribute('width', String(thumb.width));
    image.setAttribute('height', String(thumb.height));
    image.setAttribute('href', thumb.src);
    holder.appendChild(frame);
    holder.appendChild(image);
    group.appendChild(holder);
  }

  function drawAll() {
    Object.keys(latest).forEach(draw);
  }

  RED.comms.subscribe('facefusion/thumbnail/#', function (topic, msg) {
    if (!msg || !msg.id) return;
    if (msg.src) latest[msg.id] = { src: msg.src, width: msg.width || 160, height: msg.height || 120 };
    else delete latest[msg.id];
    draw(msg.id);
  });
  // The view rebuilds node shapes when a tab is shown or a node is edited.
  ['workspace:change', 'flows:loaded', 'editor:save', 'nodes:change'].forEach(function (event) {
    RED.events.on(event, function () {
      setTimeout(drawAll, 50);
    });
  });

  window.facefusionThumbnails = { draw: draw, latest: latest };
})();
