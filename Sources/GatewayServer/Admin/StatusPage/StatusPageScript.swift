/// The status page's script: reads the admin JSON endpoints every two seconds with the token kept
/// in session storage, turns two readings of the cumulative counters into rates and latency
/// quantiles for the interval between them (as Prometheus' `rate` and `histogram_quantile` do),
/// and writes everything with `textContent` (never as HTML: top objects are client-chosen URLs).
enum StatusPageScript {
    static let javascript = #"""
        'use strict';
        (() => {
          const INTERVAL_MS = 2000;
          const TOKEN_KEY = 'gateway-admin-token';
          const problems = new Map();
          let previous = null;
          let timer = null;
          // Each refresh chain has a number; a newer one (after the token form) retires the older.
          let chain = 0;

          const $ = (id) => document.getElementById(id);
          const setText = (id, text) => { $(id).textContent = text; };

          function showProblem(key, text) {
            if (text) problems.set(key, text); else problems.delete(key);
            const list = $('errors');
            list.replaceChildren(...[...problems.values()].map((line) => element('li', line)));
            $('problems').hidden = problems.size === 0;
          }
          window.addEventListener('error', (event) => showProblem('script:' + event.message, 'script error: ' + event.message));
          window.addEventListener('unhandledrejection', (event) => {
            const reason = event.reason && event.reason.message ? event.reason.message : String(event.reason);
            showProblem('script:' + reason, 'script error: ' + reason);
          });

          function element(tag, text, className) {
            const node = document.createElement(tag);
            if (text !== undefined && text !== null) node.textContent = String(text);
            if (className) node.className = className;
            return node;
          }

          function badge(text, tone) {
            return element('span', text, 'badge ' + tone);
          }

          function row(cells) {
            const tr = document.createElement('tr');
            for (const cell of cells) {
              if (cell instanceof Node) {
                const td = document.createElement('td');
                td.append(cell);
                tr.append(td);
              } else {
                tr.append(element('td', cell));
              }
            }
            return tr;
          }

          // ---- formatting

          const number = (value) => Number(value).toLocaleString('en-US');

          function bytes(value) {
            const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
            let amount = Number(value);
            let unit = 0;
            while (amount >= 1024 && unit < units.length - 1) { amount /= 1024; unit += 1; }
            return (unit === 0 ? amount : amount.toFixed(1)) + ' ' + units[unit];
          }

          function seconds(value) {
            if (value === null || value === undefined) return '–';
            if (!isFinite(value)) return '> 30 s';
            if (value < 0.001) return (value * 1000).toFixed(2) + ' ms';
            if (value < 1) return (value * 1000).toFixed(1) + ' ms';
            return value.toFixed(2) + ' s';
          }

          const percent = (part, whole) => (whole > 0 ? ((100 * part) / whole).toFixed(part === whole || part === 0 ? 0 : 1) + ' %' : '–');

          function time(iso) {
            if (!iso) return '–';
            const date = new Date(iso);
            if (isNaN(date)) return iso;
            const two = (value) => String(value).padStart(2, '0');
            return date.getFullYear() + '-' + two(date.getMonth() + 1) + '-' + two(date.getDate()) + ' '
              + two(date.getHours()) + ':' + two(date.getMinutes()) + ':' + two(date.getSeconds());
          }

          // ---- arithmetic on cumulative counters

          const sum = (values) => values.reduce((total, value) => total + value, 0);
          const minus = (now, before) => now.map((value, index) => value - (before ? before[index] || 0 : 0));

          /** The q-quantile of a histogram's bucket counts, interpolated within its bucket. */
          function quantile(bounds, counts, q) {
            const total = sum(counts);
            if (total <= 0) return null;
            const rank = q * total;
            let running = 0;
            for (let index = 0; index < counts.length; index += 1) {
              if (counts[index] > 0 && running + counts[index] >= rank) {
                if (index >= bounds.length) return Infinity;
                const lower = index === 0 ? 0 : bounds[index - 1];
                return lower + (bounds[index] - lower) * ((rank - running) / counts[index]);
              }
              running += counts[index];
            }
            return bounds[bounds.length - 1];
          }

          /** Counts for the interval since the last reading, or since start on the first one. */
          function interval(now, before, pick) {
            return before ? minus(pick(now), pick(before)) : pick(now);
          }

          // ---- token

          function takeTokenFromFragment() {
            const match = /(?:^|&)token=([^&]*)/.exec(location.hash.slice(1));
            if (!match) return;
            let token = match[1];
            try {
              token = decodeURIComponent(token);
            } catch (error) {
              showProblem('token', 'the token in the address is not valid percent-encoding; it was used as written');
            }
            sessionStorage.setItem(TOKEN_KEY, token);
            history.replaceState(null, '', location.pathname + location.search);
          }

          class Unauthorized extends Error {}

          async function getJSON(path) {
            const headers = { Accept: 'application/json' };
            const token = sessionStorage.getItem(TOKEN_KEY);
            if (token) headers.Authorization = 'Bearer ' + token;
            const response = await fetch(path, { headers, cache: 'no-store' });
            if (response.status === 401) throw new Unauthorized(path);
            if (!response.ok) throw new Error(path + ' answered ' + response.status);
            return response.json();
          }

          function showLogin(wrongToken) {
            $('login').hidden = false;
            $('status').hidden = true;
            showProblem('token', wrongToken ? 'the admin API refused the token' : null);
            $('token').focus();
          }

          $('login').addEventListener('submit', (event) => {
            event.preventDefault();
            sessionStorage.setItem(TOKEN_KEY, $('token').value);
            $('token').value = '';
            previous = null;
            refresh();
          });

          // ---- rendering

          function renderHeader(stats) {
            setText('node', stats.node);
            setText('region', stats.region || '–');
            setText('version', stats.version);
            setText('started', time(stats.started_at));
            setText('generation', stats.generation);
            const last = stats.reloads.last;
            const reload = $('last-reload');
            if (!last) {
              reload.textContent = 'none since start';
              reload.className = '';
            } else if (last.result === 'applied') {
              reload.textContent = 'applied ' + time(last.at) + ' (generation ' + last.generation + ')';
              reload.className = 'good';
            } else {
              reload.textContent = 'rejected ' + time(last.at) + ': ' + last.problems.join('; ');
              reload.className = 'bad';
            }
            setText('updated', time(stats.now));
          }

          function renderCards(stats, before, elapsed, cache) {
            const total = stats.total;
            const windowCounts = interval(stats, before, (s) => s.total.status_classes);
            const windowRequests = sum(windowCounts);
            setText('total-requests', number(total.requests));
            setText('total-5xx', number(total.status_classes[4]));
            setText('rps', before && elapsed > 0 ? (windowRequests / elapsed).toFixed(1) : '–');
            // An interval without requests shows the figure since start rather than nothing.
            const recent = before && windowRequests > 0;
            const errorRequests = recent ? windowCounts[4] : total.status_classes[4];
            const errorBase = recent ? windowRequests : total.requests;
            const errorRate = $('error-rate');
            errorRate.textContent = percent(errorRequests, errorBase);
            errorRate.className = errorBase > 0 && errorRequests / errorBase > 0.01 ? 'bad' : '';
            let durations = interval(stats, before, (s) => s.total.duration_counts);
            let windowLabel = before ? 'last ' + elapsed.toFixed(0) + ' s' : 'since start';
            if (sum(durations) === 0) {
              durations = total.duration_counts;
              windowLabel = 'since start';
            }
            const bounds = stats.duration_bounds_seconds;
            setText('latency', seconds(quantile(bounds, durations, 0.5)) + ' / ' + seconds(quantile(bounds, durations, 0.99)));
            setText('latency-window', windowLabel);
            setText('connections', number(stats.connections.open));
            setText('accepted', number(stats.connections.accepted));
            setText('hit-ratio', cache.hit_ratio === null ? '–' : (100 * Number(cache.hit_ratio)).toFixed(1) + ' %');
            setText('cache-bytes', bytes(cache.bytes) + ' of ' + bytes(cache.capacity_bytes) + ', ' + number(cache.entries) + ' objects');
            setText('bytes', bytes(cache.bytes_served) + ' / ' + bytes(cache.bytes_from_origin));
            setText('purges', number(stats.purges.targets));
            setText('limited', number(sum(stats.rate_limits.map((policy) => policy.limited))));
            setText('auth-failures', number(stats.auth.failures));
          }

          function renderRoutes(stats, before, elapsed) {
            const earlier = new Map((before ? before.routes : []).map((route) => [route.name, route]));
            const bounds = stats.duration_bounds_seconds;
            const rows = [];
            for (const route of stats.routes) {
              if (route.name === '' && route.requests === 0) continue;
              const old = earlier.get(route.name);
              const windowRequests = old ? route.requests - old.requests : null;
              let durations = old ? minus(route.duration_counts, old.duration_counts) : route.duration_counts;
              if (sum(durations) === 0) durations = route.duration_counts;
              const cache = route.cache;
              const lookups = cache.hit + cache.stale + cache.miss + cache.revalidated;
              const tr = row([
                route.name === '' ? '(no route)' : route.name,
                route.upstream || '–',
                windowRequests !== null && elapsed > 0 ? (windowRequests / elapsed).toFixed(1) : '–',
                number(route.requests),
                number(route.status_classes[3]),
                route.status_classes[4] > 0 ? badge(number(route.status_classes[4]), 'bad') : '0',
                seconds(quantile(bounds, durations, 0.5)),
                seconds(quantile(bounds, durations, 0.99)),
                lookups > 0 ? percent(cache.hit + cache.stale, lookups) : '–',
                bytes(route.sent_bytes),
              ]);
              tr.dataset.route = route.name;
              tr.dataset.requests = String(route.requests);
              rows.push(tr);
            }
            $('routes').tBodies[0].replaceChildren(...rows);
          }

          const circuitTone = { closed: 'good', half_open: 'warn', open: 'bad', none: '' };
          const healthTone = { healthy: 'good', unhealthy: 'bad', unchecked: '' };

          function renderUpstreams(body) {
            const rows = [];
            for (const upstream of body.upstreams) {
              for (const endpoint of upstream.endpoints) {
                const tr = row([
                  upstream.name,
                  endpoint.address,
                  badge(endpoint.health, healthTone[endpoint.health] || ''),
                  badge(endpoint.circuit.replace('_', '-'), circuitTone[endpoint.circuit] || ''),
                  endpoint.ejected ? badge('ejected', 'bad') : 'no',
                  endpoint.in_rotation ? 'yes' : badge('no', 'bad'),
                  number(endpoint.connections),
                  number(endpoint.active_requests),
                ]);
                tr.dataset.upstream = upstream.name;
                tr.dataset.circuit = endpoint.circuit;
                rows.push(tr);
              }
            }
            $('upstreams').tBodies[0].replaceChildren(...rows);
          }

          function renderTopObjects(cache) {
            const rows = cache.top_objects.map((item) => {
              const tr = row([element('span', item.object), number(item.requests), bytes(item.bytes)]);
              tr.cells[0].className = 'object';
              return tr;
            });
            if (rows.length === 0) rows.push(row(['no cached routes served yet', '', '']));
            $('top-objects').tBodies[0].replaceChildren(...rows);
          }

          function renderRateLimits(stats) {
            const rows = stats.rate_limits.map((policy) =>
              row([policy.policy, number(policy.allowed), policy.limited > 0 ? badge(number(policy.limited), 'warn') : '0',
                policy.redis_errors > 0 ? badge(number(policy.redis_errors), 'bad') : '0']));
            if (rows.length === 0) rows.push(row(['no rate limits configured', '', '', '']));
            $('rate-limits').tBodies[0].replaceChildren(...rows);
          }

          // ---- refresh loop

          async function refresh() {
            clearTimeout(timer);
            const mine = ++chain;
            let stats, upstreams, cache;
            try {
              [stats, upstreams, cache] = await Promise.all([
                getJSON('/admin/stats'), getJSON('/admin/upstreams'), getJSON('/admin/cache/stats?top=10'),
              ]);
            } catch (error) {
              if (mine !== chain) return;
              if (error instanceof Unauthorized) {
                showLogin(sessionStorage.getItem(TOKEN_KEY) !== null);
                return;
              }
              showProblem('fetch', 'cannot read the admin API: ' + error.message);
              timer = setTimeout(refresh, INTERVAL_MS);
              return;
            }
            if (mine !== chain) return;
            showProblem('fetch', null);
            showProblem('token', null);
            $('login').hidden = true;
            $('status').hidden = false;
            const now = performance.now();
            const before = previous ? previous.stats : null;
            const elapsed = previous ? (now - previous.at) / 1000 : 0;
            renderHeader(stats);
            renderCards(stats, before, elapsed, cache);
            renderRoutes(stats, before, elapsed);
            renderUpstreams(upstreams);
            renderTopObjects(cache);
            renderRateLimits(stats);
            previous = { at: now, stats };
            timer = setTimeout(refresh, INTERVAL_MS);
          }

          setText('interval', String(INTERVAL_MS / 1000));
          takeTokenFromFragment();
          refresh();
        })();

        """#
}
