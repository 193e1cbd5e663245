// Kiosk labels in Vietnamese (default) and English. `KioskI18n.t(key, vars)` gives the text in the
// current language; elements with data-i18n="key" are refreshed when the language changes.
(function (global) {
  "use strict";
  var VI = {
    "lang.vi": "Tiếng Việt", "lang.en": "English",
    "home.prompt": "Xin mời chọn lĩnh vực",
    "home.waiting": "Đang chờ: {n} người",
    "home.lookup": "Tra cứu hồ sơ",
    "home.lookup_sub": "Quét mã vạch trên giấy hẹn hoặc nhập mã hồ sơ",
    "home.procedures": "Thủ tục hành chính",
    "home.procedures_sub": "Giấy tờ cần mang, thời hạn, lệ phí",
    "home.printer_down": "Máy in phiếu đang gặp sự cố. Ông/bà vẫn lấy số được: số thứ tự sẽ hiện trên màn hình, vui lòng ghi nhớ số hoặc chụp ảnh màn hình.",
    "common.back": "Quay lại", "common.home": "Về trang chủ", "common.ok": "Đã hiểu",
    "prio.title": "Ông/bà thuộc đối tượng ưu tiên?",
    "prio.sub": "Nếu không, xin bấm \"Không\".",
    "prio.no": "Không",
    "prio.note": "Cán bộ có thể đề nghị xuất trình giấy tờ chứng minh đối tượng ưu tiên.",
    "prio.elderly": "Người cao tuổi", "prio.disabled": "Người khuyết tật", "prio.pregnant": "Phụ nữ mang thai",
    "prio.child": "Người có con nhỏ", "prio.merit": "Người có công",
    "ticket.label": "Số thứ tự của ông/bà",
    "ticket.counters": "Mời đến quầy số {c} khi được gọi",
    "ticket.ahead": "Trước ông/bà còn {n} người",
    "ticket.ahead_none": "Ông/bà là người tiếp theo",
    "ticket.wait": "Thời gian chờ dự kiến: khoảng {m} phút",
    "ticket.wait_short": "Thời gian chờ dự kiến: dưới 1 phút",
    "ticket.priority": "Số ưu tiên: {p}",
    "ticket.dossier": "Nhận kết quả hồ sơ {code}",
    "ticket.qr": "Quét mã QR để theo dõi lượt trên điện thoại",
    "ticket.printing": "Đang in phiếu…",
    "ticket.printed": "Mời ông/bà nhận phiếu ở khe máy in",
    "ticket.print_failed": "Máy in đang gặp sự cố, ông/bà vui lòng ghi nhớ số hoặc chụp ảnh màn hình",
    "ticket.done": "Xong",
    "ticket.auto_home": "Tự động về màn hình chính sau {s} giây",
    "msg.title": "Xin lỗi ông/bà",
    "lookup.title": "Tra cứu hồ sơ",
    "lookup.hint": "Đưa mã vạch trên Giấy tiếp nhận hồ sơ vào máy quét, hoặc nhập mã hồ sơ bằng bàn phím dưới đây.",
    "lookup.example": "Ví dụ: 000.17.22.H56-210531-0001",
    "lookup.go": "Tra cứu",
    "lookup.searching": "Đang tra cứu…",
    "lookup.empty": "Mời ông/bà nhập mã hồ sơ.",
    "dossier.title": "Thông tin hồ sơ",
    "dossier.code": "Mã hồ sơ", "dossier.procedure": "Thủ tục", "dossier.applicant": "Người nộp",
    "dossier.phone": "Điện thoại",
    "dossier.received": "Ngày tiếp nhận", "dossier.due": "Ngày hẹn trả kết quả", "dossier.new_due": "Ngày hẹn trả mới",
    "dossier.status": "Tình trạng", "dossier.next": "Ông/bà cần làm gì",
    "dossier.late": "Trễ hạn {d} ngày", "dossier.late_nodays": "Trễ hạn",
    "dossier.on_time": "Đúng hẹn", "dossier.in_time": "Trong hạn",
    "dossier.masked": "Tên người nộp đã được che một phần để bảo vệ thông tin cá nhân.",
    "dossier.verify": "Xem đầy đủ thông tin",
    "dossier.verified": "Đã xác thực: hiển thị đầy đủ thông tin.",
    "dossier.ready": "Hồ sơ đã có kết quả. Mời ông/bà lấy số để nhận kết quả.",
    "dossier.take": "Lấy số nhận kết quả",
    "dossier.apology": "Thư xin lỗi",
    "dossier.another": "Tra cứu hồ sơ khác",
    "verify.title": "Nhập mã tra cứu",
    "verify.hint": "Mã tra cứu in trên Giấy tiếp nhận hồ sơ và hẹn trả kết quả, hoặc 4 số cuối số căn cước của người nộp.",
    "verify.go": "Xác nhận",
    "verify.empty": "Mời ông/bà nhập mã tra cứu.",
    "proc.title": "Thủ tục hành chính",
    "proc.search": "Tìm theo tên thủ tục (gõ không dấu cũng được)",
    "proc.all": "Tất cả",
    "proc.none": "Không tìm thấy thủ tục phù hợp. Ông/bà thử từ khóa khác hoặc hỏi cán bộ hướng dẫn.",
    "proc.count": "{n} thủ tục",
    "proc.keyboard": "Bàn phím",
    "proc.documents": "Giấy tờ cần mang (thành phần hồ sơ)",
    "proc.doc_name": "Giấy tờ", "proc.original": "Bản chính", "proc.copy": "Bản sao",
    "proc.show_only": "Xuất trình",
    "proc.time_limit": "Thời hạn giải quyết", "proc.fees": "Phí, lệ phí", "proc.where": "Nơi nộp hồ sơ",
    "proc.online": "Làm trực tuyến", "proc.result": "Kết quả",
    "proc.online.toàn trình": "Làm trực tuyến được toàn bộ trên Cổng Dịch vụ công",
    "proc.online.một phần": "Làm trực tuyến được một phần (nộp trực tuyến, nhận kết quả tại Bộ phận Một cửa)",
    "proc.online.không": "Nộp trực tiếp tại Bộ phận Một cửa",
    "proc.badge.full": "Trực tuyến toàn trình", "proc.badge.part": "Trực tuyến một phần", "proc.badge.none": "Nộp trực tiếp",
    "proc.print": "In danh sách giấy tờ",
    "proc.printing": "Đang gửi lệnh in…",
    "proc.printed": "Đã gửi lệnh in. Mời ông/bà nhận giấy ở khe máy in.",
    "proc.print_failed": "Máy in đang gặp sự cố, chưa in được danh sách giấy tờ.",
    "kb.space": "Dấu cách", "kb.back": "Xóa", "kb.clear": "Xóa hết",
    "scan.not_found": "Không đọc được mã hồ sơ từ mã vừa quét.",
    "err.network": "Mất kết nối tới máy chủ. Vui lòng thử lại."
  };
  var EN = {
    "home.prompt": "Please choose a service",
    "home.waiting": "{n} waiting",
    "home.lookup": "Check a dossier",
    "home.lookup_sub": "Scan the receipt barcode or type the dossier code",
    "home.procedures": "Administrative procedures",
    "home.procedures_sub": "Papers to bring, time limits, fees",
    "home.printer_down": "The ticket printer is out of order. You can still take a number: it is shown on the screen; please remember it or take a photo of the screen.",
    "common.back": "Back", "common.home": "Home", "common.ok": "OK",
    "prio.title": "Are you entitled to priority?",
    "prio.sub": "If not, press \"No\".",
    "prio.no": "No",
    "prio.note": "Staff may ask for proof of priority.",
    "prio.elderly": "Elderly person", "prio.disabled": "Person with a disability", "prio.pregnant": "Pregnant woman",
    "prio.child": "With a small child", "prio.merit": "Person with revolutionary merit",
    "ticket.label": "Your number",
    "ticket.counters": "Go to counter {c} when called",
    "ticket.ahead": "People ahead of you: {n}",
    "ticket.ahead_none": "You are next",
    "ticket.wait": "Estimated wait: about {m} min",
    "ticket.wait_short": "Estimated wait: under 1 min",
    "ticket.priority": "Priority: {p}",
    "ticket.dossier": "Collect the result of dossier {code}",
    "ticket.qr": "Scan the QR code to follow your turn on your phone",
    "ticket.printing": "Printing your ticket…",
    "ticket.printed": "Please take your ticket from the printer",
    "ticket.print_failed": "The printer has a problem: please remember your number or take a photo of the screen",
    "ticket.done": "Done",
    "ticket.auto_home": "Back to the start in {s} s",
    "msg.title": "We are sorry",
    "lookup.title": "Check a dossier",
    "lookup.hint": "Hold the barcode of your receipt under the scanner, or type the dossier code on the keyboard below.",
    "lookup.example": "Example: 000.17.22.H56-210531-0001",
    "lookup.go": "Search",
    "lookup.searching": "Searching…",
    "lookup.empty": "Please type the dossier code.",
    "dossier.title": "Dossier",
    "dossier.code": "Dossier code", "dossier.procedure": "Procedure", "dossier.applicant": "Applicant",
    "dossier.phone": "Phone",
    "dossier.received": "Received on", "dossier.due": "Result promised on", "dossier.new_due": "New promised date",
    "dossier.status": "Status", "dossier.next": "What to do next",
    "dossier.late": "{d} days late", "dossier.late_nodays": "Late",
    "dossier.on_time": "On time", "dossier.in_time": "In time",
    "dossier.masked": "The applicant's name is partly hidden to protect personal data.",
    "dossier.verify": "Show full details",
    "dossier.verified": "Verified: full details shown.",
    "dossier.ready": "The result is ready. Take a number to collect it.",
    "dossier.take": "Take a number to collect the result",
    "dossier.apology": "Apology",
    "dossier.another": "Check another dossier",
    "verify.title": "Enter the lookup code",
    "verify.hint": "The lookup code printed on your receipt, or the last 4 digits of the applicant's ID number.",
    "verify.go": "Confirm",
    "verify.empty": "Please type the lookup code.",
    "proc.title": "Administrative procedures",
    "proc.search": "Search by procedure name (no accents needed)",
    "proc.all": "All",
    "proc.none": "No procedure found. Try other words or ask the staff.",
    "proc.count": "{n} procedures",
    "proc.keyboard": "Keyboard",
    "proc.documents": "Papers to bring",
    "proc.doc_name": "Paper", "proc.original": "Original", "proc.copy": "Copy",
    "proc.show_only": "Show only",
    "proc.time_limit": "Time limit", "proc.fees": "Fees", "proc.where": "Where to submit",
    "proc.online": "Online", "proc.result": "Result",
    "proc.online.toàn trình": "Can be done entirely online on the public service portal",
    "proc.online.một phần": "Partly online (submit online, collect the result at the office)",
    "proc.online.không": "Submit in person at the one-stop office",
    "proc.badge.full": "Fully online", "proc.badge.part": "Partly online", "proc.badge.none": "In person",
    "proc.print": "Print the checklist",
    "proc.printing": "Sending to the printer…",
    "proc.printed": "Sent to the printer. Please take the paper from the printer.",
    "proc.print_failed": "The printer has a problem; the checklist was not printed.",
    "kb.space": "Space", "kb.back": "Delete", "kb.clear": "Clear",
    "scan.not_found": "No dossier code could be read from that scan.",
    "err.network": "Lost connection to the server. Please try again.",
    "err.holiday": "Today is a public holiday: the office is closed.",
    "err.closed_day": "Today is not a working day: the office is closed.",
    "err.before_open": "The office has not opened yet.",
    "err.between_sessions": "Lunch break: numbers are given again after the break.",
    "err.after_close": "No more numbers today. Please come back on the next working day.",
    "err.daily_cap": "No more numbers for this service today. Please come back on the next working day.",
    "err.too_many_attempts": "Too many wrong tries. Please try again later or ask at the counter.",
    "err.too_many_requests": "Too many requests. Please try again in a few minutes.",
    "err.wrong_secret": "The lookup code is not right.",
    "err.unknown_dossier": "No dossier has this code. Please check the code on your receipt.",
    "err.no_printer": "No printer is available."
  };
  var current = "vi";
  var listeners = [];

  function fill(text, vars) {
    return String(text).replace(/\{(\w+)\}/g, function (m, k) {
      return vars && vars[k] !== undefined && vars[k] !== null ? String(vars[k]) : m;
    });
  }
  function t(key, vars, lang) {
    var table = (lang || current) === "en" ? EN : VI;
    var text = table[key];
    if (text === undefined) { text = VI[key]; }
    if (text === undefined) { text = key; }
    return fill(text, vars);
  }
  function apply(root) {
    (root || document).querySelectorAll("[data-i18n]").forEach(function (el) {
      el.textContent = t(el.getAttribute("data-i18n"));
    });
    (root || document).querySelectorAll("[data-i18n-en]").forEach(function (el) {
      // Secondary English line: shown under the Vietnamese text in Vietnamese mode only.
      el.textContent = current === "vi" ? t(el.getAttribute("data-i18n-en"), null, "en") : "";
    });
  }
  function setLang(lang) {
    current = lang === "en" ? "en" : "vi";
    document.documentElement.lang = current;
    apply(document);
    listeners.forEach(function (fn) { try { fn(current); } catch (e) { console.error(e); } });
  }
  global.KioskI18n = {
    t: t, apply: apply, setLang: setLang, fill: fill,
    lang: function () { return current; },
    onChange: function (fn) { listeners.push(fn); }
  };
})(window);
