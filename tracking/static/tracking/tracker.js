/* Seed affiliate network: tracker.js — first-party click storage and conversion reporting.
 *
 * <script src="https://TRACKING-HOST/t/tracker.js" data-program="123" data-param="aff_click"
 *         data-days="30" data-attribution="last_click" async></script>
 *
 * On a landing page it copies the click id from the URL (?aff_click=…) into a first-party cookie
 * on the merchant's own domain for the program's window, so attribution survives third-party
 * cookie blocking. On the thank-you page call:
 *   window.affq = window.affq || []; affq.push(["conversion", {order_id: "A-1", amount: "49.90", currency: "EUR"}]);
 * It reports through navigator.sendBeacon (POST /t/pixel.gif) or a 1×1 image as a fallback.
 */
(function () {
  "use strict";
  var script = document.currentScript || (function () {
    var all = document.getElementsByTagName("script");
    for (var i = all.length - 1; i >= 0; i--) { if (/\/t\/tracker\.js/.test(all[i].src)) { return all[i]; } }
    return null;
  })();
  if (!script) { return; }
  var program = script.getAttribute("data-program") || "";
  var param = script.getAttribute("data-param") || "aff_click";
  var days = parseInt(script.getAttribute("data-days") || "30", 10);
  var firstClick = script.getAttribute("data-attribution") === "first_click";
  var endpoint = script.src.replace(/\/t\/tracker\.js.*$/, "/t/pixel.gif");
  var cookie = "_aff_" + program;

  function readCookie(name) {
    var parts = document.cookie ? document.cookie.split("; ") : [];
    for (var i = 0; i < parts.length; i++) {
      var eq = parts[i].indexOf("=");
      if (parts[i].substring(0, eq) === name) { return decodeURIComponent(parts[i].substring(eq + 1)); }
    }
    return "";
  }

  function storeClick() {
    var match = new RegExp("[?&]" + param + "=([A-Za-z0-9_-]{8,64})").exec(window.location.search);
    if (!match || !program) { return; }
    if (firstClick && readCookie(cookie)) { return; }
    var secure = window.location.protocol === "https:" ? "; Secure" : "";
    document.cookie = cookie + "=" + encodeURIComponent(match[1]) + "; Max-Age=" + (days * 86400) +
      "; Path=/; SameSite=Lax" + secure;
  }

  function conversion(data) {
    data = data || {};
    var fields = {program: program, click_id: data.click_id || readCookie(cookie)};
    ["order_id", "amount", "currency", "action", "customer_id", "coupon", "customer_email"].forEach(function (k) {
      if (data[k] !== undefined && data[k] !== null) { fields[k] = String(data[k]); }
    });
    var body = Object.keys(fields).map(function (k) {
      return encodeURIComponent(k) + "=" + encodeURIComponent(fields[k]);
    }).join("&");
    if (navigator.sendBeacon) {
      var blob = new Blob([body], {type: "application/x-www-form-urlencoded"});
      if (navigator.sendBeacon(endpoint, blob)) { return true; }
    }
    new Image(1, 1).src = endpoint + "?" + body;
    return true;
  }

  storeClick();
  var queue = window.affq || [];
  var api = {push: function (item) { if (item && item[0] === "conversion") { conversion(item[1]); } },
             conversion: conversion, clickId: function () { return readCookie(cookie); }};
  for (var i = 0; i < queue.length; i++) { api.push(queue[i]); }
  window.affq = api;
  window.affTrack = api;
})();
