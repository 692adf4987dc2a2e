// A small storefront written against the generated types (src/api.d.ts, from the back office's
// OpenAPI schema): list products, read one, quote, order with an Idempotency-Key, read the order,
// post a lead. `make typescript` type-checks it with tsc, so a schema change that breaks a
// storefront breaks the build.
import type { components, paths } from "./api";

type Schemas = components["schemas"];
export type ApiError = Schemas["Error"];
type Json<Op, Status extends number> = Op extends { responses: { [S in Status]: { content: { "application/json": infer B } } } }
  ? B
  : never;

export type ProductPage = Json<paths["/api/products"]["get"], 200>;
export type ProductDetail = Json<paths["/api/products/{product_id}"]["get"], 200>;
export type CategoryTree = Json<paths["/api/categories"]["get"], 200>;
export type ShippingQuote = Json<paths["/api/shipping/quote"]["post"], 200>;
export type OrderAccepted = Json<paths["/api/orders"]["post"], 202>;
export type OrderDetail = Json<paths["/api/orders/{order_number}"]["get"], 200>;
export type LeadReceived = Json<paths["/api/crm/leads"]["post"], 202>;
type QuoteBody = Schemas["QuoteRequestRequest"];
type OrderBody = Schemas["OrderCreateRequest"];
type LeadBody = Schemas["LeadCaptureRequest"];

export class StorefrontError extends Error {
  constructor(
    readonly status: number,
    readonly body: ApiError,
  ) {
    super(`${status} ${body.error.code}: ${body.error.message}`);
  }
}

export class Storefront {
  constructor(private readonly base: string) {}

  private async call<T>(path: string, init: RequestInit = {}): Promise<T> {
    const url = path.startsWith("http") ? path : `${this.base}${path}`;
    const response = await fetch(url, {
      ...init,
      headers: { Accept: "application/json", "Content-Type": "application/json", ...init.headers },
    });
    const body: unknown = await response.json();
    if (!response.ok) throw new StorefrontError(response.status, body as ApiError);
    return body as T;
  }

  products(query: { category?: number; q?: string; limit?: number } = {}): Promise<ProductPage> {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(query)) params.set(name, String(value));
    return this.call<ProductPage>(`/api/products?${params}`);
  }

  /** Every page, following the absolute `next` links. */
  async *allProducts(limit = 100): AsyncGenerator<ProductPage["results"][number]> {
    let page: ProductPage = await this.products({ limit });
    for (;;) {
      yield* page.results;
      if (page.next === null) return;
      page = await this.call<ProductPage>(page.next);
    }
  }

  product(productId: number): Promise<ProductDetail> {
    return this.call<ProductDetail>(`/api/products/${productId}`);
  }

  categories(): Promise<CategoryTree> {
    return this.call<CategoryTree>("/api/categories");
  }

  quote(body: QuoteBody): Promise<ShippingQuote> {
    return this.call<ShippingQuote>("/api/shipping/quote", { method: "POST", body: JSON.stringify(body) });
  }

  order(body: OrderBody, idempotencyKey: string): Promise<OrderAccepted> {
    return this.call<OrderAccepted>("/api/orders", {
      method: "POST",
      body: JSON.stringify(body),
      headers: { "Idempotency-Key": idempotencyKey },
    });
  }

  orderStatus(accepted: OrderAccepted): Promise<OrderDetail> {
    return this.call<OrderDetail>(accepted.status_url, { headers: { "X-Order-Token": accepted.access_token } });
  }

  lead(body: LeadBody): Promise<LeadReceived> {
    return this.call<LeadReceived>("/api/crm/leads", { method: "POST", body: JSON.stringify(body) });
  }
}

/** One buyer's visit: browse, pick options, quote, order, read the timeline, leave a lead. */
export async function visit(shop: Storefront): Promise<string[]> {
  const lines: string[] = [];
  const tree = await shop.categories();
  for (const node of tree.results) lines.push(`${node.name} (${node.product_count})`);
  const page = await shop.products({ limit: 5 });
  const first = page.results[0];
  if (first === undefined) return lines;
  const product = await shop.product(first.id);
  const variant = product.variants[0];
  if (variant === undefined) return lines;
  const pickers = variant.options.map((option) => `${option.name}: ${option.value}`).join(", ");
  lines.push(`${product.name} [${pickers}] ${variant.price} ${variant.currency}, images: ${product.images.length}`);
  if (product.category !== null) lines.push(`in ${product.category.name}`);

  const items = [{ variant_id: variant.id, quantity: 1 }];
  const quote = await shop.quote({ country_code: "US", zip: "78701", items });
  const cheapest = quote.options[0];
  if (cheapest === undefined) return lines;
  lines.push(`ships by ${cheapest.logistic_name} for ${cheapest.price} ${cheapest.currency} in ${cheapest.delivery_days} days`);

  try {
    const accepted = await shop.order(
      {
        email: "ada@example.com",
        name: "Ada Lovelace",
        // line2, zip, phone and logistic_name are optional
        shipping_address: { line1: "1 Main St", city: "Austin", province: "TX", country_code: "US" },
        items,
      },
      `visit-${Date.now()}`,
    );
    const order = await shop.orderStatus(accepted);
    lines.push(`order ${order.number}: ${order.status}, total ${order.total} ${order.currency}`);
    for (const entry of order.timeline) lines.push(`${entry.at} ${entry.message}`);
    if (order.tracking.number !== null) lines.push(`tracking ${order.tracking.number} ${order.tracking.url ?? ""}`);
    for (const item of order.items) lines.push(`${item.quantity} x ${item.name} ${item.options.map((o) => o.value).join("/")}`);
  } catch (error) {
    if (!(error instanceof StorefrontError)) throw error;
    // out_of_stock (409), idempotency_key_mismatch (422), throttled (429), ...
    lines.push(`refused: ${error.body.error.code} (${error.body.request_id ?? "no request id"})`);
  }

  const received = await shop.lead({ name: "Ada Lovelace", email: "ada@example.com", marketing_consent: true });
  lines.push(`lead ${received.status}`);
  return lines;
}
