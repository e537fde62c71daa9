(function(){'use strict';
// Every number on the page is the server's (scales_human(), as in
// scales-top): a refresh fetches the page again and swaps its <main>.
var doc=document;
function setText(el,t){if(el&&el.textContent!==t)el.textContent=t;}
function url(fmt){var u=new URL(location.href);u.hash='';u.searchParams.delete('refresh');if(fmt)u.searchParams.set('format',fmt);else u.searchParams.delete('format');return u.toString();}
function get(u){return fetch(u,{cache:'no-store',credentials:'same-origin'}).then(function(r){if(!r.ok)throw new Error('HTTP '+r.status);return r.text();});}
function swapMain(){return get(url(null)).then(function(t){
 // the body only: a parsed <head> would apply its <style> against the CSP
 var i=t.indexOf('<body'),d=new DOMParser().parseFromString(i<0?t:t.slice(i),'text/html');
 var nm=d.querySelector('main'),om=doc.querySelector('main');
 if(nm&&om)om.replaceWith(doc.importNode(nm,true));});}
var timer=null,busy=false,count=0,cb,status;
function poll(){
 if(busy)return;busy=true;
 swapMain().then(function(){
  count++;doc.body.setAttribute('data-refreshed',String(count));
  setText(status,'updated '+new Date().toLocaleTimeString());
 }).catch(function(e){setText(status,'refresh failed: '+e.message);}).then(function(){busy=false;});
}
function setAuto(on){
 cb.checked=on;
 if(timer){clearInterval(timer);timer=null;}
 if(on){var iv=+doc.body.getAttribute('data-interval')||1000;
  timer=setInterval(poll,Math.max(iv,250));poll();}
 else setText(status,'');
 try{localStorage.setItem('scales-autorefresh',on?'1':'0');}catch(e){}
}
function start(){
 cb=doc.getElementById('autorefresh');status=doc.getElementById('status');
 if(!cb)return;
 cb.addEventListener('change',function(){setAuto(cb.checked);});
 var saved=null;try{saved=localStorage.getItem('scales-autorefresh');}catch(e){}
 setAuto(doc.body.hasAttribute('data-refresh')||saved==='1');
}
if(doc.readyState==='loading')doc.addEventListener('DOMContentLoaded',start);else start();
})();
