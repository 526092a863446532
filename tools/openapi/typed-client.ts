// Compiled with `tsc --strict` against the types openapi-typescript generates from /v2/schema/
// (tools/openapi/check): it compiles only while the document types what a client reads.
import type { components, paths } from "./generated/api";

type Schemas = components["schemas"];

/** Depth of a category tree: every level's children are typed nodes (the component refers to itself). */
export function depth(node: Schemas["CategoryTreeNode"]): number {
  return 1 + Math.max(0, ...node.children.map(depth));
}

/** Names three levels down a GET /v2/categories/tree answer. */
export function thirdLevelNames(
  tree: paths["/v2/categories/tree"]["get"]["responses"][200]["content"]["application/json"],
): string[] {
  return tree.data.flatMap((root) =>
    root.children.flatMap((child) =>
      child.children.flatMap((grandchild) => grandchild.names.map((name) => name.value ?? "")),
    ),
  );
}

/** A cluster's default product, expanded (?expands=defaultProduct) or by id, or null. */
export function defaultProductLabel(cluster: Schemas["Cluster"]): string {
  const product = cluster.defaultProduct;
  if (product === null) return "none";
  return "version" in product ? (product.sku ?? String(product.id)) : `#${product.id}`;
}

/** The ETag a PATCH sends back as If-Match: a header the operation declares. */
type PatchProduct = paths["/v2/products/{lookup_key}/{lookup_value}"]["patch"];
export function ifMatch(read: Schemas["ProductResponse"]): NonNullable<PatchProduct["parameters"]["header"]>["If-Match"] {
  return `"${read.data.version}"`;
}

/** Bulk outcomes: typed actions and a summary. */
export function failed(answer: Schemas["BulkOutcomeListResponse"]): number[] {
  const errors = answer.data.filter((outcome) => outcome.action === "error").map((outcome) => outcome.index);
  return answer.summary.error === errors.length ? errors : [];
}

/** A move to the root sends target null. */
export const toRoot: Schemas["CategoryMove"] = { target: null, position: "last-child" };
