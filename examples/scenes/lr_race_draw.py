"""Drawing of the lr-race scene: one loss chart, one curve and readout per rate."""

from __future__ import annotations

from manim import DOWN, RIGHT, UP, FadeIn, ValueTracker, VGroup, linear

from neuroanim.blocks import LossChart, Readout, TextLine
from neuroanim.draw import NeuroScene

SECONDS = 5  # the race on screen


class LrRace(NeuroScene):
    spec_name = "lr-race"

    def construct(self):
        race = self.data  # the card's Race: one run per learning rate
        runs, colours = race.runs, self.theme.lr_colors
        # The title, the chart with one (hidden) curve per rate, the readouts
        title = TextLine(self.words["title"]).to_edge(UP)
        chart = LossChart(runs[0].loss, width=8, height=4, log_x=True,
                          color=colours[0])
        for run, colour in zip(runs[1:], colours[1:], strict=False):
            chart.add_line(run.loss, colour)
        chart.next_to(title, DOWN, buff=0.4)
        readouts = VGroup(*(Readout(f"lr {run.lr:g}", run.loss[0])
                            for run in runs)).arrange(RIGHT, buff=0.6)
        for readout, colour in zip(readouts, colours, strict=False):
            readout[0].set_color(colour)  # the name in its curve's colour
        readouts.next_to(chart, DOWN, buff=0.3)
        chart.show_upto(0)
        self.play(FadeIn(title), FadeIn(chart), FadeIn(readouts))

        # The race: one tracker over the epochs drives every curve and number
        epoch = ValueTracker(0)

        def follow(_):
            e = round(epoch.get_value())
            chart.show_upto(e)
            for readout, run in zip(readouts, runs, strict=True):
                readout.set_value(run.loss[e])

        chart.add_updater(follow)
        self.play(epoch.animate.set_value(runs[0].epochs), run_time=SECONDS,
                  rate_func=linear, subcaption=self.words["caption"])
        chart.clear_updaters()

        # Who won, in numbers from the data
        best = race.winner
        words = self.words["ending"].format(lr=f"{best.lr:g}",
                                            loss=f"{best.loss[-1]:.3f}")
        ending = TextLine(words, color=self.theme.good).next_to(readouts, DOWN)
        self.play(FadeIn(ending), subcaption=words)
        self.wait(0.5)
