(function(){'use strict';
var doc=document;
function human(v,unit){
 if(v===null||v===undefined||v===''||!isFinite(+v))return '-';
 v=+v;
 function sig3(x){return (x===Math.floor(x)&&Math.abs(x)<1000)?String(x):String(Number(x.toPrecision(3)));}
 function si(x,u,k,pre){var a=Math.abs(x),p=0;
  while(a>=k&&p+1<pre.length){a/=k;x/=k;p++;}
  if(a>=999.5&&p+1<pre.length){x/=k;p++;}
  return u?sig3(x)+' '+pre[p]+u:sig3(x)+pre[p];}
 var dec=['','k','M','G','T','P','E'],bin=['','Ki','Mi','Gi','Ti','Pi','Ei'];
 if(unit==='bytes')return si(v,'B',1024,bin);
 if(unit!=='seconds')return si(v,'',1000,dec);
 var a=Math.abs(v);
 if(a===0)return '0 s';
 if(a<1e-6)return sig3(v*1e9)+' ns';
 if(a<1e-3)return sig3(v*1e6)+' \u00b5s';
 if(a<1)return sig3(v*1e3)+' ms';
 if(a<60)return sig3(v)+' s';
 if(a<3600)return sig3(v/60)+' min';
 if(a<86400)return sig3(v/3600)+' h';
 if(v>=1e9&&v<1e10)return new Date(Math.floor(v)*1000).toISOString().slice(0,19).replace('T',' ')+'Z';
 return si(v/86400,'',1000,dec)+' d';
}
function setText(el,t){if(el&&el.textContent!==t)el.textContent=t;}
function str(v){return v===null||v===undefined?'':String(v);}
function reviver(k,v,c){return (typeof v==='number'&&c&&typeof c.source==='string')?c.source:v;}
function url(fmt){var u=new URL(location.href);u.hash='';u.searchParams.delete('refresh');if(fmt)u.searchParams.set('format',fmt);else u.searchParams.delete('format');return u.toString();}
function get(u,json){return fetch(u,{cache:'no-store',credentials:'same-origin'}).then(function(r){if(!r.ok)throw new Error('HTTP '+r.status);return r.text();}).then(function(t){return json?JSON.parse(t,reviver):t;});}
function key(app,pid){return app+'\n'+pid;}
function sections(){var m=new Map();doc.querySelectorAll('section.process').forEach(function(s){m.set(key(s.getAttribute('data-app'),s.getAttribute('data-pid')),s);});return m;}
function update(j){
 var secs=sections(),seen=0,stale=false;
 (j.processes||[]).forEach(function(p){
  var s=secs.get(key(p.app,str(p.pid)));
  if(!s){stale=true;return;}
  seen++;var found=0,ms=p.metrics||{};
  s.querySelectorAll('tr.metric').forEach(function(tr){
   var m=ms[tr.getAttribute('data-path')];
   if(!m){tr.classList.add('gone');stale=true;return;}
   found++;tr.classList.remove('gone');
   var unit=tr.getAttribute('data-unit'),kind=m.kind;
   var raw=str(kind==='histogram'?m.count:m.value);
   tr.setAttribute('data-value',raw);
   var vc=tr.querySelector('.v');
   if(vc){vc.title=raw;setText(vc,kind==='state'?raw:(raw===''?'':human(raw,kind==='histogram'?'':unit)));}
   var rc=tr.querySelector('.r');
   if(rc)setText(rc,(m.rate===null||m.rate===undefined)?'':human(m.rate,'')+'/s');
   tr.querySelectorAll('[data-stat]').forEach(function(e){
    var x=str(m[e.getAttribute('data-stat')]);
    e.setAttribute('data-value',x);
    setText(e.querySelector('.hv'),human(x,unit));});
   var st=tr.querySelector('.states');
   if(st&&m.values)setText(st,Object.keys(m.values).map(function(k){return k+': '+str(m.values[k]);}).join(', '));
  });
  if(found!==Object.keys(ms).length)stale=true;
 });
 if(seen!==secs.size)stale=true;
 return stale;
}
var SVG='http://www.w3.org/2000/svg';
function draw(svg,vals){
 var W=+svg.getAttribute('width'),H=+svg.getAttribute('height');
 var cap=+svg.getAttribute('data-cap')||vals.length||1;
 var nums=vals.map(function(v){return v===null?NaN:+v;});
 svg.setAttribute('data-points',nums.map(function(v){return isFinite(v)?String(Number(v.toPrecision(6))):'NaN';}).join(' '));
 var lo=Infinity,hi=-Infinity;
 nums.forEach(function(v){if(isFinite(v)){lo=Math.min(lo,v);hi=Math.max(hi,v);}});
 svg.querySelectorAll('polyline').forEach(function(p){p.remove();});
 var step=cap>1?(W-2)/(cap-1):0,n=nums.length,pts=[];
 function flush(){if(pts.length){var pl=doc.createElementNS(SVG,'polyline');pl.setAttribute('points',pts.join(' '));svg.appendChild(pl);pts=[];}}
 for(var i=0;i<n;i++){var v=nums[i];if(!isFinite(v)){flush();continue;}
  var x=(W-1)-(n-1-i)*step,y=hi>lo?(H-1)-(v-lo)/(hi-lo)*(H-2):H/2;
  pts.push(x.toFixed(1)+','+y.toFixed(1));}
 flush();
}
function drawHistory(h){
 var secs=sections();
 (h.processes||[]).forEach(function(p){
  var s=secs.get(key(p.app,str(p.pid)));if(!s)return;
  s.querySelectorAll('tr.metric').forEach(function(tr){
   var svg=tr.querySelector('svg.spark'),v=(p.series||{})[tr.getAttribute('data-path')];
   if(svg&&v)draw(svg,v);});
 });
}
function swapMain(){return get(url(null),false).then(function(t){
 var d=new DOMParser().parseFromString(t,'text/html');
 var nm=d.querySelector('main'),om=doc.querySelector('main');
 if(nm&&om)om.replaceWith(doc.importNode(nm,true));});}
var timer=null,busy=false,count=0,cb,status;
function poll(){
 if(busy)return;busy=true;
 Promise.all([get(url('json'),true),get(url('history'),true)]).then(function(r){
  var stale=update(r[0]);drawHistory(r[1]);
  return (stale||doc.querySelector('svg.chart'))?swapMain():null;
 }).then(function(){
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
