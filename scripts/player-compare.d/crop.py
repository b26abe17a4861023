# Takes from our full frame exactly the part of the content area that one player shot holds, at the shot's size.
#
# Usage: python3 crop.py FRAME.png SHOT_JSON_LINE OUT.png
#   FRAME.png       our whole frame (the content fitted, centred, in it)
#   SHOT_JSON_LINE  shoot.mjs's line: "aspect" (of the content), "css" (the shot: whole CSS pixels) and "rect" (the
#                   content's own rectangle, fractional; absent in older lines: taken as "css")
# The shot [cx, cy, cw, ch] covers the content's fractions (cx - rx) / rw ... of its rectangle [rx, ry, rw, rh]; the
# same fractions of our fitted area are scaled to cw x ch with an area (box) filter, so that a shot clipped a third
# of a pixel inside the content is compared with the same third of a pixel of ours.
import json
import sys

from PIL import Image

frame, line, out = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
im = Image.open(frame).convert("RGB")
W, H = im.size
a = float(line["aspect"])
aw, ah = (W, W / a) if W / a <= H else (H * a, H)
ax, ay = (W - aw) / 2, (H - ah) / 2
cx, cy, cw, ch = (float(v) for v in line["css"])
rx, ry, rw, rh = (float(v) for v in line.get("rect") or line["css"])
box = (
    ax + (cx - rx) / rw * aw,
    ay + (cy - ry) / rh * ah,
    ax + (cx + cw - rx) / rw * aw,
    ay + (cy + ch - ry) / rh * ah,
)
box = (max(0.0, box[0]), max(0.0, box[1]), min(float(W), box[2]), min(float(H), box[3]))
im.resize((round(cw), round(ch)), Image.BOX, box=box).save(out)
