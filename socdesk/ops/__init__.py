"""Running this SOCdesk instance: first-run set-up (`socdesk bootstrap`), the health endpoint and the
Django admin site's access rule. At the top of the layers: these pieces may use every app below.
"""
