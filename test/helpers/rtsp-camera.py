# A camera stand-in for the tests: GStreamer's RTSP server serving an H.264 MP4 clip at
# rtsp://127.0.0.1:PORT/stream in real time (shared: every client sees the same live stream).
# Run with Debian's /usr/bin/python3 (python3-gi, gir1.2-gst-rtsp-server-1.0). Prints "ready".
import sys
import gi
gi.require_version('Gst', '1.0')
gi.require_version('GstRtspServer', '1.0')
from gi.repository import Gst, GstRtspServer, GLib

Gst.init(None)
port, clip = sys.argv[1], sys.argv[2]
server = GstRtspServer.RTSPServer()
server.set_address('127.0.0.1')
server.set_service(port)
factory = GstRtspServer.RTSPMediaFactory()
factory.set_launch('( filesrc location="%s" ! qtdemux ! h264parse ! rtph264pay name=pay0 pt=96 config-interval=1 )' % clip)
factory.set_shared(True)
server.get_mount_points().add_factory('/stream', factory)
if server.attach(None) == 0:
    sys.exit('cannot listen on 127.0.0.1:%s' % port)
print('ready', flush=True)
GLib.MainLoop().run()
