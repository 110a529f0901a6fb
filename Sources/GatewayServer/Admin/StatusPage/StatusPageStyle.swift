/// The status page's style sheet: system fonts, light and dark, readable on a laptop and a phone.
enum StatusPageStyle {
    static let css = #"""
        :root { color-scheme: light dark; --fg: #1d2330; --muted: #667085; --bg: #f6f7f9; --card: #fff;
          --line: #e3e6ea; --ok: #13795b; --warn: #b54708; --bad: #c01048; }
        @media (prefers-color-scheme: dark) {
          :root { --fg: #e6e8ec; --muted: #98a2b3; --bg: #12151b; --card: #1b2029; --line: #2b313c;
            --ok: #32d583; --warn: #fdb022; --bad: #f97066; }
        }
        * { box-sizing: border-box; }
        body { margin: 0; padding: 1.25rem 1.5rem 2rem; font: 14px/1.45 system-ui, -apple-system, "Segoe UI",
          Roboto, "DejaVu Sans", sans-serif; color: var(--fg); background: var(--bg); }
        h1 { font-size: 1.35rem; margin: 0 0 .5rem; }
        h2 { font-size: .95rem; margin: 1.5rem 0 .5rem; }
        header .facts { display: flex; flex-wrap: wrap; gap: .25rem 1.5rem; margin: 0; }
        header .facts div { display: flex; gap: .4rem; }
        dt { color: var(--muted); }
        dd { margin: 0; font-variant-numeric: tabular-nums; }
        .cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: .75rem;
          margin-top: 1rem; }
        .card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: .6rem .8rem; }
        .card h2 { margin: 0; font-size: .78rem; font-weight: 500; color: var(--muted); text-transform: uppercase;
          letter-spacing: .03em; }
        .card p { margin: .2rem 0; font-size: 1.5rem; font-weight: 600; font-variant-numeric: tabular-nums; }
        .card small { color: var(--muted); }
        table { width: 100%; border-collapse: collapse; background: var(--card); border: 1px solid var(--line);
          border-radius: 8px; overflow: hidden; }
        th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid var(--line); }
        th { font-weight: 500; color: var(--muted); font-size: .8rem; }
        td { font-variant-numeric: tabular-nums; }
        td.object { max-width: 32rem; overflow-wrap: anywhere; font-family: ui-monospace, "DejaVu Sans Mono", monospace;
          font-size: .8rem; }
        tr:last-child td { border-bottom: 0; }
        .split { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 0 1rem; }
        .badge { display: inline-block; padding: 0 .45rem; border-radius: 99px; font-size: .78rem; font-weight: 600; }
        .good { color: var(--ok); } .warn { color: var(--warn); } .bad { color: var(--bad); }
        .badge.good { background: color-mix(in srgb, var(--ok) 15%, transparent); }
        .badge.warn { background: color-mix(in srgb, var(--warn) 15%, transparent); }
        .badge.bad { background: color-mix(in srgb, var(--bad) 15%, transparent); }
        #login { margin: 2rem 0; max-width: 26rem; background: var(--card); border: 1px solid var(--line);
          border-radius: 8px; padding: 1rem; display: grid; gap: .5rem; }
        #login[hidden], #status[hidden], #problems[hidden] { display: none; }
        #login input { font: inherit; padding: .4rem; }
        #login button { font: inherit; padding: .4rem; cursor: pointer; }
        .hint, footer { color: var(--muted); font-size: .8rem; }
        footer { margin-top: 2rem; }
        #problems li { color: var(--bad); }
        """#
}
