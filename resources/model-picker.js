/* Editor-side helper shared by the face nodes' dialogs (served by Node-RED at
   resources/node-red-contrib-facefusion/model-picker.js): fills a model field's suggestions with
   the models of one role from the facefusion-config admin endpoint, marks missing files and
   non-permissive licences, and shows the chosen model's licence under the field. */
(function () {
  'use strict';
  var PERMISSIVE = /^(MIT|Apache-2\.0|BSD(-[23]-Clause)?|ISC)$/i;
  /** Messages of the config node's catalog (src/nodes/locales/<lang>/facefusion-config.json, "ff.models"). */
  function t(key, vars) {
    return RED._('node-red-contrib-facefusion/facefusion-config:ff.models.' + key, vars);
  }

  function permissive(model) {
    return typeof model.permissive === 'boolean' ? model.permissive : PERMISSIVE.test(model.license);
  }

  function describe(model) {
    var parts = [model.role, t(model.present ? 'present' : 'missing'), t('licence', { licence: model.license })];
    if (!permissive(model)) parts.push(t('notPermissive'));
    return parts.join(' · ');
  }

  /**
   * input: jQuery selector of the text field; role: detector | landmarker | embedder | swapper |
   * enhancer | masker; embeddedLabel: what a blank field means (shown as placeholder), a message
   * key of ff.models.embedded (e.g. "detector") or a text.
   */
  function attach(input, role, configInput, embeddedLabel) {
    var $input = $(input);
    var embeddedKey = 'node-red-contrib-facefusion/facefusion-config:ff.models.embedded.' + embeddedLabel;
    var embedded = RED._(embeddedKey);
    if (embedded !== embeddedKey) embeddedLabel = embedded;
    var listId = $input.attr('id') + '-models';
    var $list = $('<datalist>').attr('id', listId).insertAfter($input);
    var $info = $('<div class="form-tips ff-model-info" style="margin-top:4px">').insertAfter($list);
    $input.attr('list', listId).attr('placeholder', embeddedLabel);
    var models = [];
    function showInfo() {
      var value = $input.val();
      var found = models.filter(function (m) {
        return m.id === value;
      })[0];
      if (!value) $info.text(t('blank', { what: embeddedLabel }));
      else if (found) $info.text(describe(found));
      else if (/\.onnx$/i.test(value)) $info.text(t('file'));
      else $info.text(t('unknown'));
      $info.css('color', found && !permissive(found) ? '#a94442' : '');
    }
    $.getJSON('facefusion/models', { config: $(configInput).val() || undefined })
      .done(function (data) {
        models = (data.models || []).filter(function (m) {
          return m.role === role;
        });
        models.forEach(function (m) {
          $('<option>')
            .attr('value', m.id)
            .text(m.id + ' — ' + describe(m))
            .appendTo($list);
        });
        showInfo();
      })
      .fail(function () {
        $info.text(t('unavailable'));
      });
    $input.on('change keyup', showInfo);
  }

  window.FaceFusionModelPicker = { attach: attach };
})();
