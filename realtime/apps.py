from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    name = "realtime"

    def ready(self):
        from realtime.fanout import change_to_sockets
        from realtime.gateway import change_to_connections
        from realtime.publish import change_published

        # Locally, to this process's sockets; deployed (WEBSOCKET_API_ENDPOINT set), through API Gateway.
        change_published.connect(change_to_sockets, dispatch_uid="realtime.change_to_sockets")
        change_published.connect(change_to_connections, dispatch_uid="realtime.change_to_connections")
