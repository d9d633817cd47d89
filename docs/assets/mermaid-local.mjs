// Mermaid from this site, not from a CDN (see scripts/labkit/docs_assets.py): Material for
// MkDocs uses window.mermaid when the page already has it.
import mermaid from "./mermaid/mermaid.esm.min.mjs";

window.mermaid = mermaid;
