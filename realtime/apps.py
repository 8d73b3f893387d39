from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    name = "realtime"

    def ready(self):
        from realtime.fanout import change_to_sockets
        from realtime.publish import change_published

        change_published.connect(change_to_sockets, dispatch_uid="realtime.change_to_sockets")
