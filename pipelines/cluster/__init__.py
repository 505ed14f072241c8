"""Scale-out engines on loopback: a Flink session cluster with Beam's job server (`tfxp cluster`)."""
