"""The notifier: task callbacks for integrators.

It follows the read API's event stream (``/api/v1/events/stream``) over HTTP, so it never opens
the index file the API's process holds, and POSTs a signed JSON body to each callback URL
registered for a finished task's creator or for the task itself. Registrations, the delivery
log and the stream position live in its own small SQLite store. It imports only the shared core
(:mod:`smainer.webhooks` signs; :mod:`smainer.config` holds its settings).
"""
