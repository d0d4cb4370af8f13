/* The editor's "face library" sidebar tab, loaded by face-library.html: lists the
   people of a deployed face library (with their face pictures when the library keeps them),
   renames and deletes them, names or erases collected unknown faces, and exports / imports the
   library sealed with a runtime's Token key. It talks to the admin endpoints of
   src/nodes/face-library.ts (facefusion.read to look, facefusion.write to change). Its texts are
   messages of the face library's catalog (src/nodes/locales/<lang>/face-library.json, key
   "face-library.sidebar"). */
(function () {
  'use strict';
  if (window.FaceFusionLibrarySidebar) return;

  var state = { library: '', libraries: [] };
  var NS = 'node-red-contrib-facefusion/face-library:face-library.sidebar.';
  function t(key, vars) {
    return RED._(NS + key, vars);
  }
  var $content, $select, $people, $unknowns, $summary, $runtime;

  function esc(text) {
    return $('<span>')
      .text(text == null ? '' : String(text))
      .html();
  }

  function failed(xhr) {
    var body = xhr && xhr.responseJSON;
    RED.notify(esc(t('failed', { error: (body && body.error) || (xhr && xhr.statusText) || t('requestFailed') })), 'error');
  }

  function post(path, data, done) {
    $.ajax({ url: 'facefusion/library/' + path, type: 'POST', contentType: 'application/json', data: JSON.stringify(data) })
      .done(function (res) {
        if (done) done(res);
        refresh();
      })
      .fail(failed);
  }

  function picture(src) {
    return src
      ? '<img src="' + src + '" style="width:40px;height:40px;object-fit:cover;border-radius:3px">'
      : '<span style="display:inline-block;width:40px;height:40px;line-height:40px;text-align:center;color:#999"><i class="fa fa-user"></i></span>';
  }

  function render(data) {
    var info = data.info;
    $summary.text(t('summary', { people: t('people', { count: info.people }), pictures: t('pictures', { count: info.embeddings }) }) + (info.model ? ' (' + info.model + ')' : '') + ' · ' + info.path);
    $people.empty();
    if (!data.people.length) $people.append($('<tr><td colspan="3" style="color:#999"></td></tr>').find('td').text(t('nobody')).end());
    data.people.forEach(function (p) {
      var $row = $(
        '<tr class="ff-person"><td>' +
          picture(p.thumbnail) +
          '</td><td class="ff-person-name">' +
          esc(p.name) +
          '<div style="color:#999;font-size:0.9em">' +
          esc(t('pictures', { count: p.embeddings })) +
          '</div></td><td style="text-align:right;white-space:nowrap"></td></tr>',
      );
      $('<button class="red-ui-button red-ui-button-small ff-rename"><i class="fa fa-pencil"></i></button>')
        .attr('title', t('rename'))
        .on('click', function () {
          var to = window.prompt(t('newName', { name: p.name }), p.name);
          if (to && to !== p.name) post('rename', { library: state.library, from: p.name, to: to });
        })
        .appendTo($row.find('td').last());
      $('<button class="red-ui-button red-ui-button-small ff-forget" style="margin-left:4px"><i class="fa fa-trash"></i></button>')
        .attr('title', t('delete'))
        .on('click', function () {
          if (window.confirm(t('confirmForget', { name: p.name }))) {
            post('forget', { library: state.library, name: p.name }, function () {
              RED.notify(esc(t('erased', { name: p.name })), 'success');
            });
          }
        })
        .appendTo($row.find('td').last());
      $people.append($row);
    });
    $unknowns.empty();
    data.unknowns.forEach(function (u) {
      var $row = $(
        '<tr class="ff-unknown"><td>' +
          picture(u.thumbnail) +
          '</td><td>' +
          esc(t('seen', { count: u.seen })) +
          '<div style="color:#999;font-size:0.9em">' +
          esc(u.last_seen.replace('T', ' ').slice(0, 16)) +
          (u.camera ? ' · ' + esc(u.camera) : '') +
          '</div></td><td style="text-align:right;white-space:nowrap"></td></tr>',
      );
      $('<button class="red-ui-button red-ui-button-small"><i class="fa fa-user-plus"></i></button>')
        .attr('title', t('nameThis'))
        .on('click', function () {
          var name = window.prompt(t('whoIsThis'));
          if (name) post('unknown/name', { library: state.library, id: u.id, name: name });
        })
        .appendTo($row.find('td').last());
      $('<button class="red-ui-button red-ui-button-small" style="margin-left:4px"><i class="fa fa-trash"></i></button>')
        .attr('title', t('erase'))
        .on('click', function () {
          post('unknown/forget', { library: state.library, id: u.id });
        })
        .appendTo($row.find('td').last());
      $unknowns.append($row);
    });
    $content.find('.ff-unknown-section').toggle(data.unknowns.length > 0);
  }

  function refresh() {
    $.getJSON('facefusion/libraries')
      .done(function (res) {
        state.libraries = res.libraries;
        $select.empty();
        if (!res.libraries.length) {
          $select.append($('<option value="">').text(t('noLibrary')));
          state.library = '';
          $summary.text(t('deployFirst'));
          $people.empty();
          $unknowns.empty();
          return;
        }
        res.libraries.forEach(function (l) {
          $select.append(
            $('<option>')
              .val(l.id)
              .text((l.name || l.path.split('/').pop()) + (l.people == null ? ' (' + t('notOpen') + ')' : ' · ' + l.people)),
          );
        });
        if (
          !res.libraries.some(function (l) {
            return l.id === state.library;
          })
        )
          state.library = res.libraries[0].id;
        $select.val(state.library);
        $.getJSON('facefusion/library', { library: state.library }).done(render).fail(failed);
      })
      .fail(failed);
    $runtime.empty();
    RED.nodes.eachConfig(function (n) {
      if (n.type === 'facefusion-config')
        $runtime.append(
          $('<option>')
            .val(n.id)
            .text(n.name || t('runtime', { id: n.id.slice(0, 6) })),
        );
    });
  }

  function exportLibrary() {
    $.ajax({ url: 'facefusion/library/export', type: 'POST', contentType: 'application/json', data: JSON.stringify({ library: state.library, config: $runtime.val() }) })
      .done(function (res) {
        var bytes = Uint8Array.from(atob(res.sealed), function (c) {
          return c.charCodeAt(0);
        });
        var a = document.createElement('a');
        a.href = URL.createObjectURL(new Blob([bytes], { type: 'application/octet-stream' }));
        a.download = res.file;
        a.click();
        setTimeout(function () {
          URL.revokeObjectURL(a.href);
        }, 1000);
        RED.notify(esc(t('exported', { count: res.people })), 'success');
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
        RED.notify(esc(t('imported', { people: t('new', { count: res.added.people }), pictures: t('pictures', { count: res.added.embeddings }) })), 'success');
      });
    };
    reader.readAsArrayBuffer(file);
  }

  function build() {
    $content = $('<div class="ff-library-sidebar" style="padding:8px;overflow-y:auto;height:100%;box-sizing:border-box"></div>');
    var $top = $('<div style="display:flex;gap:4px;margin-bottom:6px"></div>').appendTo($content);
    $select = $('<select id="ff-library-select" style="flex:1"></select>')
      .on('change', function () {
        state.library = $select.val();
        refresh();
      })
      .appendTo($top);
    $('<button class="red-ui-button"><i class="fa fa-refresh"></i></button>').attr('title', t('refresh')).on('click', refresh).appendTo($top);
    $summary = $('<div class="ff-library-summary" style="color:#777;font-size:0.9em;margin-bottom:6px;word-break:break-all"></div>').appendTo($content);
    $people = $('<tbody></tbody>');
    $('<table class="ff-library-people" style="width:100%;border-collapse:collapse"></table>').append($people).appendTo($content);
    var $unknownSection = $('<div class="ff-unknown-section" style="margin-top:12px;display:none"><div style="font-weight:bold;margin-bottom:4px"></div></div>').appendTo($content);
    $unknownSection.children().first().text(t('unknownFaces'));
    $unknowns = $('<tbody></tbody>');
    $('<table style="width:100%;border-collapse:collapse"></table>').append($unknowns).appendTo($unknownSection);
    var $io = $('<div style="margin-top:12px;border-top:1px solid #ddd;padding-top:8px"><div style="margin-bottom:4px"></div></div>').appendTo($content);
    $io.children().first().text(t('sealedWith'));
    $runtime = $('<select style="width:100%;margin-bottom:4px"></select>').appendTo($io);
    var $file = $('<input type="file" style="display:none">')
      .on('change', function () {
        if (this.files[0]) importLibrary(this.files[0]);
        this.value = '';
      })
      .appendTo($io);
    $('<button class="red-ui-button"><i class="fa fa-download"></i> </button>')
      .append(document.createTextNode(t('export')))
      .on('click', exportLibrary)
      .appendTo($io);
    $('<button class="red-ui-button" style="margin-left:4px"><i class="fa fa-upload"></i> </button>')
      .append(document.createTextNode(t('import')))
      .on('click', function () {
        $file.trigger('click');
      })
      .appendTo($io);
    return $content;
  }

  function register() {
    if (!window.RED || !RED.sidebar || !RED.sidebar.addTab) {
      setTimeout(register, 100);
      return;
    }
    RED.sidebar.addTab({
      id: 'facefusion-library',
      label: t('label'),
      name: t('name'),
      iconClass: 'fa fa-address-book',
      content: build(),
      enableOnEdit: true,
      onchange: refresh,
    });
    // A deploy (from this editor or elsewhere) starts or stops libraries: look again once the nodes started.
    var later = function () {
      setTimeout(function () {
        if ($content && $content.is(':visible')) refresh();
      }, 500);
    };
    RED.events.on('deploy', later);
    if (RED.comms && RED.comms.subscribe) RED.comms.subscribe('notification/runtime-deploy', later);
  }

  window.FaceFusionLibrarySidebar = {
    refresh: function () {
      if ($content) refresh();
    },
  };
  register();
})();
