"""Comms: ipywidgets open, sync state both ways, and comm_info."""

from kernel_harness import execute, of_type


def test_widget_state_round_trip(shared_kernel):
    _, kc = shared_kernel
    reply, outputs = execute(kc, "import ipywidgets as w\nslider = w.IntSlider(value=3)\nslider")
    assert reply["status"] == "ok", reply
    opens = of_type(outputs, "comm_open")
    slider_open = [m for m in opens if m["content"]["data"]["state"].get("_model_name") == "IntSliderModel"]
    assert slider_open and slider_open[0]["content"]["target_name"] == "jupyter.widget"
    comm_id = slider_open[0]["content"]["comm_id"]
    views = [m["content"]["data"] for m in of_type(outputs, "execute_result")]
    assert views[0]["application/vnd.jupyter.widget-view+json"]["model_id"] == comm_id

    # The front end moves the slider.
    msg = kc.session.msg("comm_msg", {"comm_id": comm_id,
                                      "data": {"method": "update", "state": {"value": 7}, "buffer_paths": []}})
    kc.shell_channel.send(msg)
    _, outputs = execute(kc, "slider.value")
    assert of_type(outputs, "execute_result")[0]["content"]["data"]["text/plain"] == "7"

    # The kernel moves it: the front end gets a comm_msg update.
    _, outputs = execute(kc, "slider.value = 9")
    updates = [m for m in of_type(outputs, "comm_msg") if m["content"]["comm_id"] == comm_id]
    assert updates and updates[0]["content"]["data"]["state"] == {"value": 9}

    info = kc.comm_info(target_name="jupyter.widget", reply=True, timeout=10)["content"]
    assert info["status"] == "ok" and info["comms"][comm_id]["target_name"] == "jupyter.widget"


def test_front_end_opened_comm_reaches_its_target(shared_kernel):
    _, kc = shared_kernel
    execute(kc, (
        "received = []\n"
        "def target(comm, open_msg):\n"
        "    received.append(open_msg['content']['data'])\n"
        "    @comm.on_msg\n"
        "    def _(msg):\n"
        "        received.append(msg['content']['data'])\n"
        "        comm.send({'echo': msg['content']['data']})\n"
        "import comm\n"
        "comm.get_comm_manager().register_target('test.echo', target)\n"
    ))
    kc.shell_channel.send(kc.session.msg("comm_open", {"comm_id": "c-1", "target_name": "test.echo", "data": {"a": 1}}))
    kc.shell_channel.send(kc.session.msg("comm_msg", {"comm_id": "c-1", "data": {"b": 2}}))
    _, outputs = execute(kc, "received")
    assert of_type(outputs, "execute_result")[0]["content"]["data"]["text/plain"] == "[{'a': 1}, {'b': 2}]"
