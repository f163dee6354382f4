/** A self-contained API reference page rendered from the OpenAPI document (no assets from elsewhere). */
export function referencePage(doc: unknown): string {
  const spec = doc as {
    info: { title: string; version: string; description?: string };
    paths: Record<string, Record<string, { summary?: string; description?: string; tags?: string[]; parameters?: { name: string; in: string; required?: boolean; description?: string }[]; requestBody?: unknown; responses?: Record<string, unknown> }>>;
  };
  const esc = (s: string) => s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
  const byTag = new Map<string, string[]>();
  for (const [path, methods] of Object.entries(spec.paths ?? {})) {
    for (const [method, op] of Object.entries(methods)) {
      const tag = op.tags?.[0] ?? 'other';
      const params = (op.parameters ?? [])
        .map((p) => `<li><code>${esc(p.name)}</code> <small>(${p.in}${p.required ? ', required' : ''})</small> ${esc(p.description ?? '')}</li>`)
        .join('');
      const body = op.requestBody ? `<details><summary>request body</summary><pre>${esc(JSON.stringify(op.requestBody, null, 2))}</pre></details>` : '';
      const codes = Object.keys(op.responses ?? {}).join(', ');
      const html = `<section><h3><span class="m ${method}">${method.toUpperCase()}</span> <code>${esc(path)}</code></h3>
<p>${esc(op.summary ?? '')}</p>${op.description ? `<p>${esc(op.description)}</p>` : ''}${params ? `<ul>${params}</ul>` : ''}${body}<p><small>responses: ${codes}</small></p></section>`;
      byTag.set(tag, [...(byTag.get(tag) ?? []), html]);
    }
  }
  const toc = [...byTag.keys()].map((t) => `<a href="#${t}">${t}</a>`).join(' · ');
  const sections = [...byTag.entries()].map(([t, ops]) => `<h2 id="${t}">${t}</h2>${ops.join('')}`).join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(spec.info.title)} reference</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:960px;margin:2rem auto;padding:0 1rem;color:#1f2328}
section{border-top:1px solid #d0d7de;padding:.5rem 0}code{background:#f6f8fa;padding:0 .3em}pre{background:#f6f8fa;padding:.5rem;overflow:auto;font-size:12px}
.m{display:inline-block;min-width:4.5em;font-size:12px;color:#fff;border-radius:3px;padding:0 .4em;text-align:center}
.get{background:#0969da}.post{background:#1a7f37}.patch{background:#9a6700}.put{background:#8250df}.delete{background:#cf222e}</style></head>
<body><h1>${esc(spec.info.title)} <small>${esc(spec.info.version)}</small></h1><p>${esc(spec.info.description ?? '')}</p>
<p>Machine-readable document: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1).</p><nav>${toc}</nav>${sections}</body></html>`;
}
