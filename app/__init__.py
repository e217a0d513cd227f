"""The EchoGPT copilot (Streamlit): navigation, session state, cached resources and pages.

    streamlit run app/main.py     # or: echogpt app
"""
