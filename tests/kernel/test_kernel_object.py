"""`get_ipython().kernel` and the ipywidgets output protocol, through
jupyter_client against a real kernel: the front end's side of the widget
protocol is played by the test (comm messages), the kernel's side is the real
ipywidgets 8.1."""

import time

import pytest

from kernel_harness import execute, of_type, start_kernel, stop_kernel, stream_text, value_of


@pytest.fixture(scope="module")
def kc():
    km, client = start_kernel()
    yield client
    stop_kernel(km, client)


def send_comm_msg(kc, comm_id, data):
    msg = kc.session.msg("comm_msg", {"comm_id": comm_id, "data": data})
    kc.shell_channel.send(msg)
    return msg["header"]["msg_id"]


def iopub_until_idle(kc, msg_id, timeout=30):
    """iopub messages whose parent is `msg_id`, up to its idle status, plus
    the others that arrived meanwhile (as (own, others))."""
    own, others = [], []
    deadline = time.monotonic() + timeout
    while True:
        msg = kc.get_iopub_msg(timeout=max(0.1, deadline - time.monotonic()))
        if msg["parent_header"].get("msg_id") != msg_id:
            others.append(msg)
            continue
        if msg["msg_type"] == "status":
            if msg["content"]["execution_state"] == "idle":
                return own, others
            continue
        own.append(msg)


def output_widget_msg_ids(messages):
    """The msg_id values the kernel synced to Output widgets, in order."""
    return [m["content"]["data"]["state"]["msg_id"] for m in messages
            if m["msg_type"] == "comm_msg" and "msg_id" in m["content"]["data"].get("state", {})]


def captured_between(messages, msg_id):
    """Messages published while an Output widget captured `msg_id` (between
    the state update that set it and the one that cleared it)."""
    inside, capturing = [], False
    for m in messages:
        state = m["content"].get("data", {}).get("state", {}) if m["msg_type"] == "comm_msg" else {}
        if "msg_id" in state:
            capturing = state["msg_id"] == msg_id
            continue
        if capturing:
            inside.append(m)
    return inside


def test_the_kernel_object_exists_and_knows_the_parent_request(kc):
    msg_id = kc.execute("k = get_ipython().kernel\n"
                        "print(k is not None, k.get_parent()['header']['msg_type'],\n"
                        "      k.get_parent()['header']['msg_id'], get_ipython().get_parent()['msg_id'])")
    own, _ = iopub_until_idle(kc, msg_id)
    words = stream_text(own).split()
    assert words == ["True", "execute_request", msg_id, msg_id]
    assert value_of(kc, "k.comm_manager is __import__('comm').get_comm_manager()") == "True"
    assert value_of(kc, "k._parent_header['header']['msg_type']") == "'execute_request'"


def test_session_send_publishes_on_iopub_with_the_current_parent(kc):
    msg_id = kc.execute("k = get_ipython().kernel\n"
                        "sent = k.session.send(k.iopub_socket, 'stream', {'name': 'stdout', 'text': 'via session'},\n"
                        "                      parent=k.get_parent())\n"
                        "k.send_response(k.iopub_socket, 'display_data', {'data': {'text/plain': 'resp'},\n"
                        "                'metadata': {}})")
    own, _ = iopub_until_idle(kc, msg_id)
    assert stream_text(own) == "via session"
    assert of_type(own, "display_data")[0]["content"]["data"] == {"text/plain": "resp"}
    assert value_of(kc, "sent['msg_id'] != ''") == "True"
    reply, _ = execute(kc, "k.session.send('shell', 'x')")
    assert reply["status"] == "error" and reply["ename"] == "ValueError"


def test_with_output_captures_the_cell_output(kc):
    execute(kc, "import ipywidgets as widgets\nout = widgets.Output()")
    msg_id = kc.execute("print('before')\nwith out:\n    print('inside')\n    display('shown')\nprint('after')")
    own, _ = iopub_until_idle(kc, msg_id)
    # The Output widget is told to capture this request's output, then stops.
    assert output_widget_msg_ids(own) == [msg_id, ""]
    inside = captured_between(own, msg_id)
    assert stream_text(inside) == "inside\n"
    assert [m["content"]["data"]["text/plain"] for m in of_type(inside, "display_data")] == ["'shown'"]
    everything = stream_text(own)
    assert everything == "before\ninside\nafter\n"


def test_an_error_inside_with_output_is_captured_and_suppressed(kc):
    execute(kc, "import ipywidgets as widgets\nout2 = widgets.Output()")
    reply, own = execute(kc, "with out2:\n    1/0\nprint('went on')")
    assert reply["status"] == "ok"
    inside = captured_between(own, own[0]["parent_header"]["msg_id"])
    assert of_type(inside, "error")[0]["content"]["ename"] == "ZeroDivisionError"
    assert stream_text(own) == "went on\n"


def test_button_click_prints_into_an_output_widget(kc):
    execute(kc, (
        "import ipywidgets as widgets\n"
        "log = widgets.Output()\n"
        "button = widgets.Button(description='go')\n"
        "@log.capture()\n"
        "def clicked(b):\n"
        "    print('clicked!')\n"
        "def clicked_plain(b):\n"
        "    print('plain click')\n"
        "button.on_click(clicked)\n"
        "button.on_click(clicked_plain)\n"
    ))
    comm_id = value_of(kc, "button.model_id").strip("'")
    click_id = send_comm_msg(kc, comm_id, {"method": "custom", "content": {"event": "click"}})
    own, _ = iopub_until_idle(kc, click_id)
    # Inside the Output widget: captured for the comm_msg request, before its idle.
    assert output_widget_msg_ids(own) == [click_id, ""]
    assert stream_text(captured_between(own, click_id)) == "clicked!\n"
    # Outside of it: published with the click as parent, as ipykernel does
    # (JupyterLab shows it in the log console).
    assert stream_text(own) == "clicked!\nplain click\n"


def test_interact_output_updates_in_its_output_area_when_the_slider_moves(kc):
    msg_id = kc.execute(
        "from ipywidgets import interactive\n"
        "def square(x):\n"
        "    print('square of', x, 'is', x * x)\n"
        "w = interactive(square, x=(0, 10))\n"
        "display(w)\n"
    )
    own, _ = iopub_until_idle(kc, msg_id)
    # The first run happens inside the widget's Output, not in the cell.
    assert msg_id in output_widget_msg_ids(own)
    assert stream_text(captured_between(own, msg_id)) == "square of 5 is 25\n"
    assert stream_text(own) == "square of 5 is 25\n"

    slider = value_of(kc, "w.children[0].model_id").strip("'")
    update_id = send_comm_msg(kc, slider, {"method": "update", "state": {"value": 7}, "buffer_paths": []})
    own, _ = iopub_until_idle(kc, update_id)
    assert output_widget_msg_ids(own)[0] == update_id
    inside = captured_between(own, update_id)
    assert of_type(inside, "clear_output")[0]["content"]["wait"] is True
    assert stream_text(inside) == "square of 7 is 49\n"
