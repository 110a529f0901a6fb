/// The status page's HTML: the layout the script fills in (see StatusPageScript).
enum StatusPageDocument {
    static let html = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>gateway status</title>
        <link rel="stylesheet" href="/admin/status.css">
        <script src="/admin/status.js" defer></script>
        </head>
        <body>
        <header>
          <h1>gateway <span id="node">…</span></h1>
          <dl class="facts">
            <div><dt>region</dt><dd id="region">–</dd></div>
            <div><dt>version</dt><dd id="version">–</dd></div>
            <div><dt>up since</dt><dd id="started">–</dd></div>
            <div><dt>config generation</dt><dd id="generation">–</dd></div>
            <div><dt>last reload</dt><dd id="last-reload">–</dd></div>
            <div><dt>updated</dt><dd id="updated">–</dd></div>
          </dl>
        </header>

        <form id="login" hidden>
          <label for="token">Admin token</label>
          <input id="token" type="password" autocomplete="off" spellcheck="false">
          <button type="submit">Show status</button>
          <p class="hint">Kept in this tab only (session storage) and sent as a bearer token to the admin API.</p>
        </form>

        <main id="status">
          <section class="cards">
            <div class="card"><h2>requests/s</h2><p id="rps">–</p><small>total <span id="total-requests">0</span></small></div>
            <div class="card"><h2>errors (5xx)</h2><p id="error-rate">–</p><small><span id="total-5xx">0</span> since start</small></div>
            <div class="card"><h2>latency p50 / p99</h2><p id="latency">–</p><small id="latency-window">since start</small></div>
            <div class="card"><h2>connections</h2><p id="connections">–</p><small><span id="accepted">0</span> accepted</small></div>
            <div class="card"><h2>cache hit ratio</h2><p id="hit-ratio">–</p><small><span id="cache-bytes">–</span> stored</small></div>
            <div class="card"><h2>bytes served / from origin</h2><p id="bytes">–</p><small><span id="purges">0</span> purges</small></div>
            <div class="card"><h2>rate-limited</h2><p id="limited">0</p><small><span id="auth-failures">0</span> auth failures</small></div>
          </section>

          <section>
            <h2>Routes</h2>
            <table id="routes">
              <thead><tr><th>route</th><th>upstream</th><th>req/s</th><th>requests</th><th>4xx</th><th>5xx</th><th>p50</th><th>p99</th><th>hit ratio</th><th>sent</th></tr></thead>
              <tbody></tbody>
            </table>
          </section>

          <section>
            <h2>Upstream endpoints</h2>
            <table id="upstreams">
              <thead><tr><th>upstream</th><th>endpoint</th><th>health</th><th>circuit</th><th>ejected</th><th>in rotation</th><th>connections</th><th>in flight</th></tr></thead>
              <tbody></tbody>
            </table>
          </section>

          <section class="split">
            <div>
              <h2>Top objects</h2>
              <table id="top-objects">
                <thead><tr><th>object</th><th>requests</th><th>bytes</th></tr></thead>
                <tbody></tbody>
              </table>
            </div>
            <div>
              <h2>Rate limits</h2>
              <table id="rate-limits">
                <thead><tr><th>policy</th><th>allowed</th><th>limited</th><th>Redis errors</th></tr></thead>
                <tbody></tbody>
              </table>
            </div>
          </section>
        </main>

        <section id="problems" hidden>
          <h2>Problems</h2>
          <ul id="errors"></ul>
        </section>
        <footer>Refreshes every <span id="interval">2</span> s from <code>/admin/stats</code>, <code>/admin/upstreams</code> and <code>/admin/cache/stats</code>.</footer>
        </body>
        </html>

        """#
}
