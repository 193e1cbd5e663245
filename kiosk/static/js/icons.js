// Simple line icons drawn for the kiosk (64x64, stroke = currentColor). A field's icon comes
// from its `icon` setting in the office TOML, else its code; unknown names get a document.
(function (global) {
  "use strict";
  var P = {
    // Hộ tịch: a family (two adults, a child).
    hotich: '<circle cx="20" cy="16" r="7"/><circle cx="44" cy="16" r="7"/><circle cx="32" cy="34" r="5"/>' +
      '<path d="M8 52v-8c0-7 5-12 12-12h2"/><path d="M56 52v-8c0-7-5-12-12-12h-2"/><path d="M24 56v-5c0-5 3-8 8-8s8 3 8 8v5"/>',
    // Chứng thực: a paper with a round seal.
    chungthuc: '<path d="M14 6h26l10 10v22"/><path d="M40 6v10h10"/><path d="M14 6v50h20"/><path d="M21 22h20M21 30h16"/>' +
      '<circle cx="46" cy="48" r="9"/><path d="M42 48l3 3 6-6"/>',
    // Đất đai: a land parcel with a location pin.
    datdai: '<path d="M6 46l14-6 12 6 14-6 12 6v12l-12-6-14 6-12-6-14 6z"/>' +
      '<path d="M32 38s-12-11-12-20a12 12 0 0 1 24 0c0 9-12 20-12 20z"/><circle cx="32" cy="18" r="4"/>',
    // Xây dựng: a house under a crane.
    xaydung: '<path d="M10 58V10h4v48"/><path d="M14 12h40"/><path d="M14 20l14-8"/><path d="M48 12v10"/>' +
      '<path d="M24 58V42l14-10 14 10v16z"/><path d="M34 58v-9h8v9"/>',
    // Lao động - TB&XH: a heart held by two hands.
    ldtbxh: '<path d="M32 30s-12-7-12-15a6 6 0 0 1 12-2 6 6 0 0 1 12 2c0 8-12 15-12 15z"/>' +
      '<path d="M4 44l10-6c3-2 6-2 9 0l7 4h8a3 3 0 0 1 0 6H28"/><path d="M4 56l8-4h16l20-10a3 3 0 0 1 3 5L30 60H8"/>',
    // Hộ kinh doanh: a shop with an awning.
    hkd: '<path d="M8 26l4-16h40l4 16"/><path d="M8 26c0 4 3 7 6 7s6-3 6-7c0 4 3 7 6 7s6-3 6-7c0 4 3 7 6 7s6-3 6-7c0 4 3 7 6 7s6-3 6-7"/>' +
      '<path d="M12 33v25h40V33"/><path d="M26 58V44h12v14"/>',
    // Trả kết quả: a tray receiving a paper with a tick.
    trakq: '<path d="M18 6h28v30H18z"/><path d="M24 20l6 6 10-12"/><path d="M6 38h14l4 8h16l4-8h14v18H6z"/>',
    // Tra cứu hồ sơ: a magnifier over a paper.
    lookup: '<path d="M12 6h24l10 10v14"/><path d="M36 6v10h10"/><path d="M12 6v50h18"/><path d="M18 22h18M18 30h12"/>' +
      '<circle cx="42" cy="42" r="9"/><path d="M49 49l9 9"/>',
    // Thủ tục hành chính: an open book with a list.
    procedures: '<path d="M32 14c-6-5-16-6-26-4v42c10-2 20-1 26 4 6-5 16-6 26-4V10c-10-2-20-1-26 4z"/><path d="M32 14v42"/>' +
      '<path d="M12 22h14M12 30h14M12 38h10M38 22h14M38 30h14M38 38h10"/>',
    // Anything else: a paper.
    document: '<path d="M14 6h26l10 10v40H14z"/><path d="M40 6v10h10"/><path d="M21 26h22M21 34h22M21 42h14"/>'
  };
  var ALIASES = { hotich_chungthuc: "hotich", chung_thuc: "chungthuc", dat_dai: "datdai", xay_dung: "xaydung",
                  ldtbxh: "ldtbxh", laodong: "ldtbxh", hokinhdoanh: "hkd", ho_kinh_doanh: "hkd",
                  tra_ket_qua: "trakq", traketqua: "trakq" };

  function svg(name) {
    var key = String(name || "").toLowerCase();
    key = P[key] ? key : (ALIASES[key] || "document");
    return '<svg class="icon" viewBox="0 0 64 64" aria-hidden="true" fill="none" stroke="currentColor" ' +
      'stroke-width="3" stroke-linecap="round" stroke-linejoin="round">' + P[key] + "</svg>";
  }
  function forField(f) { return svg(f.icon || f.code); }
  global.KioskIcons = { svg: svg, forField: forField, names: Object.keys(P) };
})(window);
