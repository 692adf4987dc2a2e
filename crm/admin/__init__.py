"""The CRM admin, the staff's main UI: leads, customers, contact history, and the dashboard.

`customer_inline_register` adds another app's inline to the customer page;
`config.dashboard.dashboard_panel_register` adds panels to the dashboard (the admin index).
"""

from crm import dashboard  # noqa: F401  (registers the CRM's dashboard panels)
from crm.admin import customers, leads
from crm.admin.customers import customer_inline_register

__all__ = ["customer_inline_register", "customers", "leads"]
