"""The sandbox: a local server that speaks the part of Mailchimp's Marketing API v3 mailpipe uses,
with Mailchimp's rules, a movable clock and a record of who received what.

It is a separate program that happens to live in the package: mailpipe talks to it over HTTP
exactly as it talks to Mailchimp.
"""
