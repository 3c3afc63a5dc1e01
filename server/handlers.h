// The handlers of api::routes() (internal to server/). Each answers one
// route through `c.respond`, exactly once; the route table in api.cpp has
// already checked the token or session, the role, the CSRF token and the
// query parameters' names.
#pragma once

#include "server/api.h"

namespace plaint::server {
// The web desk's session cookie (HttpOnly, SameSite=Strict).
inline constexpr const char* session_cookie = "plaint_session";
}  // namespace plaint::server

namespace plaint::server::handlers {

// api_handlers.cpp: the JSON API of SPEC §6.
void healthz(api&, call&);
void readyz(api&, call&);
void metrics_text(api&, call&);
void openapi(api&, call&);
void stream_head(api&, call&);
void put_customer(api&, call&);
void get_customer(api&, call&);
void open_ticket(api&, call&);
void list_tickets(api&, call&);
void get_ticket(api&, call&);
void post_event(api&, call&);
void ticket_events(api&, call&);
void get_attachment(api&, call&);
void list_webhooks(api&, call&);
void add_webhook(api&, call&);
void remove_webhook(api&, call&);
void webhook_deliveries(api&, call&);
void notification_status(api&, call&);
void escalations(api&, call&);
void kpi(api&, call&);
void sla_explain(api&, call&);
void whatif(api&, call&);

// web_handlers.cpp: the web desk (docs/web.md).
void page_index(api&, call&);
void page_signin(api&, call&);
void asset(api&, call&);
void signin(api&, call&);
void signout(api&, call&);
void me(api&, call&);
void list_people(api&, call&);
void put_person(api&, call&);
void workflows(api&, call&);
void sla_preview(api&, call&);
void kpi_series(api&, call&);

}  // namespace plaint::server::handlers
