/* The editor's "face library" sidebar tab (issue 28), loaded by face-library.html: lists the
   people of a deployed face library (with their face pictures when the library keeps them),
   renames and deletes them, names or erases collected unknown faces, and exports / imports the
   library sealed with a runtime's Token key. It talks to the admin endpoints of
   src/nodes/face-library.ts (facefusion.read to look, facefusion.write to change). */
(function () {
  'use strict';
  if (window.FaceFusionLibrarySidebar) return;

  var state = { library: '', libraries: [] };
  var $content, $select, $people, $unknowns, $summary, $runtime;

  function esc(text) { return $('<span>').text(text == null ? '' : String(text)).html(); }

  function failed(xhr) {
    var body = xhr && xhr.responseJSON;
    RED.notify('face library: ' + ((body && body.error) || (xhr && xhr.statusText) || 'request failed'), 'error');
  }

  function post(path, data, done) {
    $.ajax({ url: 'facefusion/library/' + path, type: 'POST', contentType: 'application/json', data: JSON.stringify(data) })
      .done(function (res) { if (done) done(res); refresh(); })
      .fail(failed);
  }

  function picture(src) {
    return src ? '<img src="' + src + '" style="width:40px;height:40px;object-fit:cover;border-radius:3px">'
      : '<span style="display:inline-block;width:40px;height:40px;line-height:40px;text-align:center;color:#999"><i class="fa fa-user"></i></span>';
  }

  function render(data) {
    var info = data.info;
    $summary.text(info.people + (info.people === 1 ? ' person' : ' people') + ', ' + info.embeddings + ' pictures' +
      (info.model ? ' (' + info.model + ')' : '') + ' · ' + info.path);
    $people.empty();
    if (!data.people.length) $people.append('<tr><td colspan="3" style="color:#999">nobody yet: enrol someone with a face enrol node</td></tr>');
    data.people.forEach(function (p) {
      var $row = $('<tr class="ff-person"><td>' + picture(p.thumbnail) + '</td><td class="ff-person-name">' + esc(p.name) +
        '<div style="color:#999;font-size:0.9em">' + p.embeddings + ' picture' + (p.embeddings === 1 ? '' : 's') + '</div></td><td style="text-align:right;white-space:nowrap"></td></tr>');
      $('<button class="red-ui-button red-ui-button-small ff-rename" title="rename"><i class="fa fa-pencil"></i></button>').on('click', function () {
        var to = window.prompt('New name for ' + p.name, p.name);
        if (to && to !== p.name) post('rename', { library: state.library, from: p.name, to: to });
      }).appendTo($row.find('td').last());
      $('<button class="red-ui-button red-ui-button-small ff-forget" title="delete" style="margin-left:4px"><i class="fa fa-trash"></i></button>').on('click', function () {
        if (window.confirm('Erase ' + p.name + ' from the face library? Their name, pictures and embeddings are deleted for good.')) {
          post('forget', { library: state.library, name: p.name }, function () { RED.notify('face library: ' + p.name + ' erased', 'success'); });
        }
      }).appendTo($row.find('td').last());
      $people.append($row);
    });
    $unknowns.empty();
    data.unknowns.forEach(function (u) {
      var $row = $('<tr class="ff-unknown"><td>' + picture(u.thumbnail) + '</td><td>seen ' + u.seen + '×<div style="color:#999;font-size:0.9em">' +
        esc(u.last_seen.replace('T', ' ').slice(0, 16)) + (u.camera ? ' · ' + esc(u.camera) : '') + '</div></td><td style="text-align:right;white-space:nowrap"></td></tr>');
      $('<button class="red-ui-button red-ui-button-small" title="name this person"><i class="fa fa-user-plus"></i></button>').on('click', function () {
        var name = window.prompt('Who is this?');
        if (name) post('unknown/name', { library: state.library, id: u.id, name: name });
      }).appendTo($row.find('td').last());
      $('<button class="red-ui-button red-ui-button-small" title="erase" style="margin-left:4px"><i class="fa fa-trash"></i></button>').on('click', function () {
        post('unknown/forget', { library: state.library, id: u.id });
      }).appendTo($row.find('td').last());
      $unknowns.append($row);
    });
    $content.find('.ff-unknown-section').toggle(data.unknowns.length > 0);
  }

  function refresh() {
    $.getJSON('facefusion/libraries').done(function (res) {
      state.libraries = res.libraries;
      $select.empty();
      if (!res.libraries.length) {
        $select.append('<option value="">no face library deployed</option>');
        state.library = '';
        $summary.text('Deploy a flow with a face library config node to see its people here.');
        $people.empty();
        $unknowns.empty();
        return;
      }
      res.libraries.forEach(function (l) {
        $select.append($('<option>').val(l.id).text((l.name || l.path.split('/').pop()) + (l.people == null ? ' (not open)' : ' · ' + l.people)));
      });
      if (!res.libraries.some(function (l) { return l.id === state.library; })) state.library = res.libraries[0].id;
      $select.val(state.library);
      $.getJSON('facefusion/library', { library: state.library }).done(render).fail(failed);
    }).fail(failed);
    $runtime.empty();
    RED.nodes.eachConfig(function (n) {
      if (n.type === 'facefusion-config') $runtime.append($('<option>').val(n.id).text(n.name || 'face runtime ' + n.id.slice(0, 6)));
    });
  }

  function exportLibrary() {
    $.ajax({ url: 'facefusion/library/export', type: 'POST', contentType: 'application/json', data: JSON.stringify({ library: state.library, config: $runtime.val() }) })
      .done(function (res) {
        var bytes = Uint8Array.from(atob(res.sealed), function (c) { return c.charCodeAt(0); });
        var a = document.createElement('a');
        a.href = URL.createObjectURL(new Blob([bytes], { type: 'application/octet-stream' }));
        a.download = res.file;
        a.click();
        setTimeout(function () { URL.revokeObjectURL(a.href); }, 1000);
        RED.notify('face library: ' + res.people + ' people exported (sealed)', 'success');
      })
      .fail(failed);
  }

  function importLibrary(file) {
    var reader = new FileReader();
    reader.onload = function () {
      var bytes = new Uint8Array(reader.result);
      var text = '';
      for (var i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
      post('import', { library: state.library, config: $runtime.val(), sealed: btoa(text) }, function (res) {
        RED.notify('face library: ' + res.added.people + ' new people, ' + res.added.embeddings + ' pictures imported', 'success');
      });
    };
    reader.readAsArrayBuffer(file);
  }

  function build() {
    $content = $('<div class="ff-library-sidebar" style="padding:8px;overflow-y:auto;height:100%;box-sizing:border-box"></div>');
    var $top = $('<div style="display:flex;gap:4px;margin-bottom:6px"></div>').appendTo($content);
    $select = $('<select id="ff-library-select" style="flex:1"></select>').on('change', function () { state.library = $select.val(); refresh(); }).appendTo($top);
    $('<button class="red-ui-button" title="refresh"><i class="fa fa-refresh"></i></button>').on('click', refresh).appendTo($top);
    $summary = $('<div class="ff-library-summary" style="color:#777;font-size:0.9em;margin-bottom:6px;word-break:break-all"></div>').appendTo($content);
    $people = $('<tbody></tbody>');
    $('<table class="ff-library-people" style="width:100%;border-collapse:collapse"></table>').append($people).appendTo($content);
    var $unknownSection = $('<div class="ff-unknown-section" style="margin-top:12px;display:none"><div style="font-weight:bold;margin-bottom:4px">Unknown faces</div></div>').appendTo($content);
    $unknowns = $('<tbody></tbody>');
    $('<table style="width:100%;border-collapse:collapse"></table>').append($unknowns).appendTo($unknownSection);
    var $io = $('<div style="margin-top:12px;border-top:1px solid #ddd;padding-top:8px"><div style="margin-bottom:4px">Export / import, sealed with the Token key of</div></div>').appendTo($content);
    $runtime = $('<select style="width:100%;margin-bottom:4px"></select>').appendTo($io);
    var $file = $('<input type="file" style="display:none">').on('change', function () { if (this.files[0]) importLibrary(this.files[0]); this.value = ''; }).appendTo($io);
    $('<button class="red-ui-button"><i class="fa fa-download"></i> export</button>').on('click', exportLibrary).appendTo($io);
    $('<button class="red-ui-button" style="margin-left:4px"><i class="fa fa-upload"></i> import</button>').on('click', function () { $file.trigger('click'); }).appendTo($io);
    return $content;
  }

  function register() {
    if (!window.RED || !RED.sidebar || !RED.sidebar.addTab) { setTimeout(register, 100); return; }
    RED.sidebar.addTab({
      id: 'facefusion-library',
      label: 'faces',
      name: 'Face library',
      iconClass: 'fa fa-address-book',
      content: build(),
      enableOnEdit: true,
      onchange: refresh
    });
    // A deploy (from this editor or elsewhere) starts or stops libraries: look again once the nodes started.
    var later = function () { setTimeout(function () { if ($content && $content.is(':visible')) refresh(); }, 500); };
    RED.events.on('deploy', later);
    if (RED.comms && RED.comms.subscribe) RED.comms.subscribe('notification/runtime-deploy', later);
  }

  window.FaceFusionLibrarySidebar = { refresh: function () { if ($content) refresh(); } };
  register();
})();
