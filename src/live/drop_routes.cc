#include "live/drop_routes.h"

#include <array>

#include "auth/policy.h"
#include "catalog/schema.h"
#include "core/ids.h"
#include "core/json_writer.h"
#include "live/public_ids.h"

namespace thunder::live {
namespace {

using catalog::FieldSpec;
using catalog::FieldType;
using engine::Reply;

constexpr std::array kDropFields = {
    FieldSpec{"sku_id", FieldType::kReference, true, false, false, 1, INT64_MAX, "skus",
              "The SKU on sale"},
    FieldSpec{"stock", FieldType::kInteger, true, false, false, 0, engine::kMaxStock, "",
              "Units for sale"},
    FieldSpec{"price", FieldType::kMoney, true, false, false, 0, engine::kMaxPriceFen, "",
              "Drop price per unit, {\"amount_fen\": n}"},
    FieldSpec{"starts_at", FieldType::kTimestamp, true, false, false, 0, 0, "",
              "When buying opens (RFC 3339)"},
    FieldSpec{"ends_at", FieldType::kTimestamp, true, false, false, 0, 0, "",
              "When buying closes (RFC 3339)"},
    FieldSpec{"per_buyer_limit", FieldType::kInteger, false, false, false, 1, engine::kMaxQuantity,
              "", "Units one buyer may hold (default 1)"},
    FieldSpec{"pay_window_seconds", FieldType::kInteger, false, false, false, 1, 86400, "",
              "Seconds a reservation waits for payment before it expires (default 900)"},
};
constexpr std::array kOrderFields = {
    FieldSpec{"buyer", FieldType::kString, false, false, false, 1,
              static_cast<int64_t>(engine::kMaxBuyerChars), "",
              "Buyer id; a consumer token's own id when left out"},
    FieldSpec{"quantity", FieldType::kInteger, false, false, false, 1, engine::kMaxQuantity, "",
              "Units to reserve (default 1)"},
};
const catalog::ResourceSpec kDropBody{
    "drops",    "drop", "Flash-sale drops", ResourceKind::kDrop, catalog::OwnerRule::kNone,
    kDropFields};
const catalog::ResourceSpec kOrderBody{
    "orders", "order", "Orders", ResourceKind::kOrder, catalog::OwnerRule::kNone, kOrderFields};
const catalog::ResourceSpec kEmptyBody{
    "orders", "order", "Orders", ResourceKind::kOrder, catalog::OwnerRule::kNone, {}};

int64_t IntOr(const catalog::Record& r, std::string_view field, int64_t fallback) {
  const SqlValue* v = r.Get(field);
  return v != nullptr ? std::get<int64_t>(*v) : fallback;
}

Timestamp Micros(int64_t us) { return Timestamp{std::chrono::microseconds{us}}; }

std::string DropJson(const PublicIds& ids, const engine::Drop& d) {
  JsonWriter w;
  w.BeginObject();
  w.Key("id").String(ids.Encode(PublicKind::kDrop, d.id));
  w.Key("sku_id").String(std::to_string(d.spec.sku_id));
  w.Key("price").Money(d.spec.price_fen);
  w.Key("starts_at").String(FormatRfc3339(d.spec.start));
  w.Key("ends_at").String(FormatRfc3339(d.spec.end));
  w.Key("per_buyer_limit").Int(d.spec.per_buyer_limit);
  w.Key("pay_window_seconds")
      .Int(std::chrono::duration_cast<std::chrono::seconds>(d.spec.pay_window).count());
  w.Key("total").Int(d.total);
  w.Key("remaining").Int(d.remaining);
  w.Key("reserved").Int(d.reserved);
  w.Key("sold").Int(d.paid);
  w.EndObject();
  return w.Take();
}

void WriteOrder(JsonWriter& w, const PublicIds& ids, const engine::Order& o) {
  w.BeginObject();
  w.Key("id").String(ids.Encode(PublicKind::kOrder, o.id));
  w.Key("drop_id").String(ids.Encode(PublicKind::kDrop, o.drop_id));
  w.Key("buyer").String(o.buyer);
  w.Key("quantity").Int(o.quantity);
  w.Key("amount").Money(o.amount_fen);
  w.Key("state").String(engine::OrderStateName(o.state));
  w.Key("created_at").String(FormatRfc3339(o.created_at));
  w.Key("pay_by").String(FormatRfc3339(o.pay_by));
  w.Key("updated_at").String(FormatRfc3339(o.updated_at));
  w.EndObject();
}

std::string OrderJson(const PublicIds& ids, const engine::Order& o) {
  JsonWriter w;
  WriteOrder(w, ids, o);
  return w.Take();
}

// The one answer for "no such drop/order": also what a caller hears about another buyer's
// order, so that it cannot tell the two apart.
Status NoSuch(std::string_view what, std::string_view id) {
  return Status(ErrorKind::kNotFound, std::string(what) + "_not_found",
                std::string(what) + " " + std::string(id) + " does not exist");
}

// The public id a request named, to answer "not found" in its terms: the engine's own
// message names its internal id.
struct Asked {
  std::string_view what;  // "drop" or "order"
  std::string_view id;    // as the client sent it
};

http::Response Answer(const PublicIds& ids, const Reply& r, int created_status, Asked asked) {
  if (!r.status.ok()) {
    if (r.status.kind() == ErrorKind::kNotFound && !asked.what.empty()) {
      return http::ErrorResponse(NoSuch(asked.what, asked.id));
    }
    return http::ErrorResponse(r.status);
  }
  const int status = r.replayed ? 200 : created_status;
  if (r.order) return http::Response::Json(status, OrderJson(ids, *r.order));
  if (r.drop) return http::Response::Json(status, DropJson(ids, *r.drop));
  return http::ErrorResponse(Status::Internal("empty engine reply"));
}

// Titled: the OpenAPI document names them Order and Drop (see http/openapi.cc).
std::string OrderSchema() {
  return R"({"title":"Order","type":"object",)"
         R"("required":["id","drop_id","buyer","quantity","amount","state","created_at",)"
         R"("pay_by","updated_at"],"properties":{)"
         R"("id":{"type":"string"},"drop_id":{"type":"string"},)"
         R"("buyer":{"type":"string","description":"Who the units are reserved for"},)"
         R"("quantity":{"type":"integer","minimum":1},)"
         R"("amount":{"type":"object","required":["amount_fen"],)"
         R"("properties":{"amount_fen":{"type":"integer","minimum":0}},)"
         R"("description":"quantity times the drop's price"},)"
         R"("state":{"type":"string","enum":["reserved","paid","cancelled","expired","refunded"]},)"
         R"("created_at":{"type":"string","format":"date-time"},)"
         R"("pay_by":{"type":"string","format":"date-time",)"
         R"("description":"A reserved order not paid by then expires; its units return"},)"
         R"("updated_at":{"type":"string","format":"date-time"}}})";
}

std::string DropSchema() {
  return R"({"title":"Drop","type":"object",)"
         R"("required":["id","sku_id","price","starts_at","ends_at","per_buyer_limit",)"
         R"("pay_window_seconds","total","remaining","reserved","sold"],"properties":{)"
         R"("id":{"type":"string"},"sku_id":{"type":"string"},)"
         R"("price":{"type":"object","required":["amount_fen"],)"
         R"("properties":{"amount_fen":{"type":"integer","minimum":0}}},)"
         R"("starts_at":{"type":"string","format":"date-time"},)"
         R"("ends_at":{"type":"string","format":"date-time"},)"
         R"("per_buyer_limit":{"type":"integer","minimum":1},)"
         R"("pay_window_seconds":{"type":"integer","minimum":1},)"
         R"("total":{"type":"integer","minimum":0,"description":"The stock it started with"},)"
         R"("remaining":{"type":"integer","minimum":0,"description":"Units still for sale"},)"
         R"("reserved":{"type":"integer","minimum":0,"description":"Units waiting for payment"},)"
         R"("sold":{"type":"integer","minimum":0,"description":"Units paid for"}}})";
}

void CreateDrop(engine::Engine& engine, Store& store, const PublicIds& ids,
                const http::RouteContext& ctx, http::Responder respond) {
  // The policy before the body: a caller without access hears 403, not what its body lacks.
  if (Status s = AuthorizeRole(*ctx.principal, Action::kCreate, ResourceKind::kDrop); !s.ok()) {
    return respond(http::ErrorResponse(s));
  }
  auto record = catalog::ParseBody(kDropBody, ctx.request.body, catalog::BodyMode::kCreate,
                                   ctx.request.idempotency_key);
  if (!record.ok()) return respond(http::ErrorResponse(record.status()));
  engine::DropSpec spec;
  spec.sku_id = IntOr(*record, "sku_id", 0);
  // The belt that makes the SKU: a host sells only what its own belt makes.
  auto sku = store.Query(
      "SELECT f.belt_id FROM skus s JOIN products p ON p.id = s.product_id "
      "JOIN factories f ON f.id = p.factory_id WHERE s.id = ?",
      {spec.sku_id});
  if (!sku.ok()) return respond(http::ErrorResponse(sku.status()));
  if (sku->rows.empty()) {
    return respond(http::ErrorResponse(Status::InvalidArgument(
        "unknown_reference", "sku_id " + std::to_string(spec.sku_id) + " does not exist",
        "sku_id")));
  }
  auto caller = ReadCallerScope(store, *ctx.principal);
  if (!caller.ok()) return respond(http::ErrorResponse(caller.status()));
  if (Status s = Authorize(*ctx.principal, Action::kCreate, ResourceKind::kDrop,
                           Ownership::Belt(AsInt(sku->rows[0][0])), *caller);
      !s.ok()) {
    return respond(http::ErrorResponse(s));
  }
  spec.stock = IntOr(*record, "stock", 0);
  spec.price_fen = IntOr(*record, "price", 0);
  spec.start = Micros(IntOr(*record, "starts_at", 0));
  spec.end = Micros(IntOr(*record, "ends_at", 0));
  spec.per_buyer_limit = IntOr(*record, "per_buyer_limit", 1);
  spec.pay_window = std::chrono::seconds(IntOr(*record, "pay_window_seconds", 900));
  // The creator scopes the idempotency key: two callers' "launch-1" are two drops.
  engine.Submit(engine::CreateDrop{spec, record->idempotency_key, ctx.principal->Name()},
                [ids, respond = std::move(respond)](Reply r) { respond(Answer(ids, r, 201, {})); });
}

void Reserve(engine::Engine& engine, const PublicIds& ids, const http::RouteContext& ctx,
             http::Responder respond) {
  const std::string& drop_text = ctx.path_params.at(0);
  const auto drop = ids.Decode(PublicKind::kDrop, drop_text);
  if (!drop) return respond(http::ErrorResponse(NoSuch("drop", drop_text)));
  // The policy before the body: a role that may not place orders at all hears 403, not
  // what its body lacks. Whose order it is is decided below, once the body names a buyer.
  if (Status s = AuthorizeRole(*ctx.principal, Action::kCreate, ResourceKind::kOrder); !s.ok()) {
    return respond(http::ErrorResponse(s));
  }
  auto record = catalog::ParseBody(kOrderBody, ctx.request.body, catalog::BodyMode::kCreate,
                                   ctx.request.idempotency_key);
  if (!record.ok()) return respond(http::ErrorResponse(record.status()));
  if (record->idempotency_key.empty()) {
    return respond(http::ErrorResponse(Status::InvalidArgument(
        "missing_field", "idempotency_key is required: a retry with it returns the same order",
        "idempotency_key")));
  }
  const Principal& who = *ctx.principal;
  std::string buyer = record->Get("buyer") ? std::get<std::string>(*record->Get("buyer")) : "";
  if (buyer.empty()) {
    if (who.role != Role::kConsumer) {
      return respond(http::ErrorResponse(Status::InvalidArgument(
          "missing_field", "buyer is required unless a consumer token places the order", "buyer")));
    }
    buyer = who.scope;
  }
  if (Status s = Authorize(who, Action::kCreate, ResourceKind::kOrder, Ownership::Buyer(buyer));
      !s.ok()) {
    return respond(http::ErrorResponse(s));
  }
  engine.Submit(engine::Reserve{*drop, std::move(buyer), IntOr(*record, "quantity", 1),
                                std::move(record->idempotency_key)},
                [ids, drop_text, respond = std::move(respond)](Reply r) {
                  respond(Answer(ids, r, 201, {"drop", drop_text}));
                });
}

// Pay, cancel and refund: read the order, ask the policy, then change it. Another buyer's
// order is answered exactly as a missing one.
template <typename Command>
void ChangeOrder(engine::Engine& engine, const PublicIds& ids, const http::RouteContext& ctx,
                 http::Responder respond) {
  const std::string& order_text = ctx.path_params.at(0);
  const auto id = ids.Decode(PublicKind::kOrder, order_text);
  if (!id) return respond(http::ErrorResponse(NoSuch("order", order_text)));
  engine::Engine* e = &engine;
  const Principal who = *ctx.principal;
  // The body is looked at only once the order is known to be the caller's: whatever the
  // body, an id that is not the caller's order answers the same 404.
  engine.GetOrder(*id, [e, ids, who, id = *id, order_text, body = std::string(ctx.request.body),
                        respond = std::move(respond)](Reply found) mutable {
    // A failed log, say, is not a missing order: pass it on as it is.
    if (!found.status.ok() && found.status.kind() != ErrorKind::kNotFound) {
      return respond(http::ErrorResponse(found.status));
    }
    if (!found.status.ok() ||
        !Authorize(who, Action::kUpdate, ResourceKind::kOrder, Ownership::Buyer(found.order->buyer))
             .ok()) {
      return respond(http::ErrorResponse(NoSuch("order", order_text)));
    }
    if (!body.empty()) {
      auto record = catalog::ParseBody(kEmptyBody, body, catalog::BodyMode::kCreate);
      if (!record.ok()) return respond(http::ErrorResponse(record.status()));
    }
    e->Submit(Command{id}, [ids, order_text, respond = std::move(respond)](Reply r) {
      respond(Answer(ids, r, 200, {"order", order_text}));
    });
  });
}

}  // namespace

void AddDropRoutes(http::Router& router, engine::Engine& engine, Store& store,
                   const PublicIds& ids) {
  engine::Engine* e = &engine;
  Store* st = &store;
  const std::string order_schema = OrderSchema();

  router.Add({"POST",
              "/v1/drops",
              true,
              {"Create a flash-sale drop of a SKU (201; 200 when an idempotency_key repeats it)",
               "drops",
               201,
               catalog::BodyJsonSchema(kDropBody, catalog::BodyMode::kCreate),
               DropSchema(),
               {}},
              nullptr,
              [e, st, ids](const http::RouteContext& ctx, http::Responder respond) {
                CreateDrop(*e, *st, ids, ctx, std::move(respond));
              },
              /*blocking=*/true});
  router.Add({"GET",
              "/v1/drops/{id}",
              true,
              {"Read a drop: units left, reserved and sold", "drops", 200, "", DropSchema(), {}},
              nullptr,
              [e, ids](const http::RouteContext& ctx, http::Responder respond) {
                const std::string& text = ctx.path_params.at(0);
                const auto id = ids.Decode(PublicKind::kDrop, text);
                if (!id) return respond(http::ErrorResponse(NoSuch("drop", text)));
                e->GetDrop(*id, [ids, text, respond = std::move(respond)](Reply r) {
                  respond(Answer(ids, r, 200, {"drop", text}));
                });
              }});
  router.Add({"POST",
              "/v1/drops/{id}/orders",
              true,
              {"Reserve units of a drop (201 with pay_by; 200 when the idempotency_key repeats; "
               "409 sold_out)",
               "orders",
               201,
               catalog::BodyJsonSchema(kOrderBody, catalog::BodyMode::kCreate,
                                       catalog::KeyRule::kRequired),
               order_schema,
               {}},
              nullptr,
              [e, ids](const http::RouteContext& ctx, http::Responder respond) {
                Reserve(*e, ids, ctx, std::move(respond));
              }});
  struct OrderChange {
    const char* verb;
    const char* summary;
    void (*run)(engine::Engine&, const PublicIds&, const http::RouteContext&, http::Responder);
  };
  for (const OrderChange& c : {
           OrderChange{"pay", "Pay a reserved order before its pay_by time (a repeat is harmless)",
                       &ChangeOrder<engine::Pay>},
           OrderChange{"cancel", "Cancel a reserved order; its units return to the drop",
                       &ChangeOrder<engine::Cancel>},
           OrderChange{"refund", "Refund a paid order; its units return to the drop",
                       &ChangeOrder<engine::Refund>},
       }) {
    router.Add({"POST",
                std::string("/v1/orders/{id}/") + c.verb,
                true,
                {c.summary, "orders", 200, "", order_schema, {}},
                nullptr,
                [e, ids, run = c.run](const http::RouteContext& ctx, http::Responder respond) {
                  run(*e, ids, ctx, std::move(respond));
                }});
  }
  router.Add({"GET",
              "/v1/orders/{id}",
              true,
              {"Read an order", "orders", 200, "", order_schema, {}},
              nullptr,
              [e, ids](const http::RouteContext& ctx, http::Responder respond) {
                const std::string& text = ctx.path_params.at(0);
                const auto id = ids.Decode(PublicKind::kOrder, text);
                if (!id) return respond(http::ErrorResponse(NoSuch("order", text)));
                const Principal who = *ctx.principal;
                e->GetOrder(*id, [ids, who, text, respond = std::move(respond)](Reply r) {
                  // Another buyer's order is answered exactly as a missing one.
                  if (r.status.ok() && !Authorize(who, Action::kRead, ResourceKind::kOrder,
                                                  Ownership::Buyer(r.order->buyer))
                                            .ok()) {
                    return respond(http::ErrorResponse(NoSuch("order", text)));
                  }
                  respond(Answer(ids, r, 200, {"order", text}));
                });
              }});
  router.Add({"GET",
              "/v1/buyers/{id}/orders",
              true,
              {"A buyer's orders, newest first; page with limit and cursor",
               "orders",
               200,
               "",
               R"({"type":"object","properties":{"items":{"type":"array","items":)" + order_schema +
                   R"(},"next_cursor":{"type":"string","nullable":true}}})",
               {"limit", "cursor"}},
              nullptr,
              [e, ids](const http::RouteContext& ctx, http::Responder respond) {
                const std::string buyer = ctx.path_params.at(0);
                if (Status s = Authorize(*ctx.principal, Action::kRead, ResourceKind::kOrder,
                                         Ownership::Buyer(buyer));
                    !s.ok()) {
                  return respond(http::ErrorResponse(s));
                }
                int64_t limit = http::kDefaultPageLimit;
                uint64_t cursor = 0;
                for (const auto& [k, v] : ctx.request.query) {
                  if (k == "limit") {
                    auto parsed = http::ParsePageLimit(v);
                    if (!parsed.ok()) return respond(http::ErrorResponse(parsed.status()));
                    limit = *parsed;
                  } else if (k == "cursor") {
                    const auto c = ids.Decode(PublicKind::kOrder, v);
                    if (!c) {
                      return respond(http::ErrorResponse(Status::InvalidArgument(
                          "invalid_cursor", "cursor is not one we gave", "cursor")));
                    }
                    cursor = *c;
                  } else {
                    return respond(http::ErrorResponse(Status::InvalidArgument(
                        "unknown_filter", "buyer orders take only limit and cursor", k)));
                  }
                }
                e->BuyerOrders(buyer, [ids, limit, cursor, respond = std::move(respond)](
                                          Result<std::vector<engine::Order>> found) {
                  if (!found.ok()) return respond(http::ErrorResponse(found.status()));
                  const std::vector<engine::Order>& orders = *found;
                  size_t start = 0;
                  if (cursor != 0) {
                    while (start < orders.size() && orders[start].id != cursor) ++start;
                    start = start < orders.size() ? start + 1 : orders.size();
                  }
                  const size_t end = std::min(orders.size(), start + static_cast<size_t>(limit));
                  JsonWriter w;
                  w.BeginObject().Key("items").BeginArray();
                  for (size_t i = start; i < end; ++i) WriteOrder(w, ids, orders[i]);
                  w.EndArray().Key("next_cursor");
                  if (end < orders.size()) {
                    w.String(ids.Encode(PublicKind::kOrder, orders[end - 1].id));
                  } else {
                    w.Null();
                  }
                  w.EndObject();
                  respond(http::Response::Json(200, w.Take()));
                });
              }});
}

}  // namespace thunder::live
