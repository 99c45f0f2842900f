"""``gradviz lesson``: list the lessons and their scenes, or export a lesson as slides.

    gradviz lesson --list                       each lesson, then "N. title" for each scene
    gradviz lesson NAME --export-slides FOLDER  every scene as scene-NN.png and scene-NN.txt

The slides are rendered by the window (``--screenshot --lesson NAME --scene N``, one process
per scene, so each scene's run is as fresh as in the room).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from gradviz.config import ConfigError
from gradviz.lesson.library import find_lesson, lesson_names
from gradviz.lesson.scene import Lesson


def add_lesson_parser(sub) -> None:
    lesson = sub.add_parser("lesson", help="the lecture as scenes: list them, or export them as slides")
    lesson.add_argument("name", nargs="?", help="a built-in lesson (rnn) or a lesson file (.toml, .json)")
    lesson.add_argument("--list", action="store_true", help="each lesson and its numbered scenes")
    lesson.add_argument("--export-slides", type=Path, metavar="FOLDER",
                        help="write every scene as a PNG (after its run) and its caption as text")
    lesson.add_argument("--size", default="1280x800", help="slide size in pixels (default 1280x800)")
    lesson.add_argument("--theme", choices=("dark", "light"), default="light", help="default light")
    lesson.add_argument("--force", action="store_true", help="overwrite slides already in FOLDER")


def listing(lesson: Lesson) -> list[str]:
    return [f"{lesson.name}: {lesson.title}"] + [f"{n}. {scene.title}" for n, scene in enumerate(lesson.scenes, 1)]


def caption_text(lesson: Lesson, number: int) -> str:
    """A scene's words for a lecturer's own slide: title, caption, question and answer."""
    scene = lesson.scenes[number - 1]
    parts = [f"{number}. {scene.title}", scene.caption]
    if scene.question:
        parts += [f"Question: {scene.question}", f"Answer: {scene.answer}"]
    return "\n\n".join(parts) + "\n"


def command_lesson(args: argparse.Namespace) -> int:
    if args.list:
        names = [args.name] if args.name else lesson_names()
        text = "\n\n".join("\n".join(listing(find_lesson(name))) for name in names)
        try:
            print(text, flush=True)
        except BrokenPipeError:  # `gradviz lesson --list | head`: the reader had enough
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    if args.name is None or args.export_slides is None:
        raise ConfigError("give --list, or a lesson and --export-slides FOLDER")
    lesson = find_lesson(args.name)
    folder: Path = args.export_slides
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"--export-slides: cannot make {folder}: {exc.strerror or exc}") from None
    if not args.force and any(folder.glob("scene-*.png")):
        raise ConfigError(f"--export-slides: {folder} already has slides; add --force to overwrite them")
    for number in range(1, len(lesson.scenes) + 1):
        png = folder / f"scene-{number:02d}.png"
        command = [sys.executable, "-m", "gradviz", "--lesson", args.name, "--scene", str(number),
                   "--screenshot", str(png), "--presentation", "--size", args.size, "--theme", args.theme, "--force"]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            tail = (done.stderr.strip().splitlines() or ["(no message)"])[-1]
            print(f"gradviz: error: scene {number}: {tail}", file=sys.stderr)
            return done.returncode
        (folder / f"scene-{number:02d}.txt").write_text(caption_text(lesson, number), encoding="utf-8")
        print(f"wrote {png} and its caption")
    return 0


def lesson_for_app(args: argparse.Namespace) -> tuple[Lesson, int]:
    """``--lesson NAME [--scene N]`` checked before any window: the lesson and the scene's number."""
    if args.lesson is None:
        raise ConfigError("--scene goes with --lesson")
    if args.preset or args.config:
        raise ConfigError("--lesson chooses each scene's run: give it without --preset or --config")
    lesson = find_lesson(args.lesson)
    number = 1 if args.scene is None else args.scene
    if not 1 <= number <= len(lesson.scenes):
        raise ConfigError(f"--scene {number}: lesson {lesson.name} has scenes 1 to {len(lesson.scenes)}")
    return lesson, number
